// The counting arithmetic of both algorithms. All of it is integer: a limit
// of 5 must mean 5, not 5 give or take a rounding error, and tests pin exact
// values with injected time.
#include "policies/rate_limit/counter_store.hpp"

#include <algorithm>

namespace gatehouse::policy::rate_limit {

namespace {

using Wide = __int128;  // requests x window_ms overflows int64 for 1e9 per 365d

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

void roll(WindowState& s, int64_t idx) {
  if (idx == s.window) return;
  s.prev = idx == s.window + 1 ? s.curr : 0;
  s.curr = 0;
  s.window = idx;
}

// Milliseconds from `elapsed` (into the current window) until one more
// request is admitted, assuming no other request is counted meanwhile.
// Admitted means prev * (w - e) + curr * w < limit * w (see the hit).
int64_t sliding_wait(const WindowState& s, const Limit& l, int64_t elapsed) {
  const Wide w = l.window_ms;
  const Wide lim = l.requests;
  // Still in this window: w - e < (lim - curr) * w / prev, so the first
  // whole millisecond is e = w - ceil((lim - curr) * w / prev) + 1.
  if (s.curr < l.requests) {
    if (s.prev == 0) return 0;
    Wide e = w - ((lim - s.curr) * w + s.prev - 1) / s.prev + 1;
    if (e < 0) e = 0;
    if (e < w) return e <= elapsed ? 0 : static_cast<int64_t>(e - elapsed);
  }
  // In the next window, whose previous count is our current one (at most
  // lim): curr * (w - e) < lim * w holds at once when curr < lim, and one
  // millisecond in when curr == lim.
  Wide e = 0;
  if (s.curr > 0) e = std::clamp<Wide>(w - (lim * w + s.curr - 1) / s.curr + 1, 0, w);
  return static_cast<int64_t>((w - elapsed) + e);
}

}  // namespace

Decision sliding_window_hit(WindowState& s, const Limit& l, int64_t now_ms) {
  const int64_t w = l.window_ms;
  int64_t idx = floor_div(now_ms, w);
  // Workers read the clock before taking the shard lock, so a request may
  // arrive just after another one already moved the window on: count it in
  // the newer window (the stricter choice) rather than rewrite history.
  if (idx < s.window) {
    idx = s.window;
    now_ms = idx * w;
  }
  roll(s, idx);
  const int64_t elapsed = now_ms - idx * w;
  const Wide cap = Wide{l.requests} * w;
  Wide used = Wide{s.prev} * (w - elapsed) + Wide{s.curr} * w;  // estimate x w

  // Admitted while the estimate, rounded down, is below the limit: a client
  // that spaces its requests evenly at exactly the limit is never refused,
  // and an aligned window never holds more than `requests` (curr < limit).
  Decision d;
  d.limit = l.requests;
  if (used < cap) {
    d.allowed = true;
    ++s.curr;
    used += w;
  }
  // Requests still admitted now: k with used + (k - 1) * w < cap.
  d.remaining = used >= cap ? 0 : static_cast<int64_t>((cap - used + w - 1) / w);
  if (!d.allowed) {
    d.retry_after_ms = sliding_wait(s, l, elapsed);
    d.reset_ms = d.retry_after_ms;
  } else if (d.remaining == 0) {
    d.reset_ms = sliding_wait(s, l, elapsed);
  } else {
    d.reset_ms = w - elapsed;  // the current window ends and its count starts to fade
  }
  return d;
}

bool sliding_window_idle(const WindowState& s, const Limit& l, int64_t now_ms) {
  return (s.curr == 0 && s.prev == 0) || floor_div(now_ms, l.window_ms) >= s.window + 2;
}

Decision token_bucket_hit(BucketState& s, const Limit& l, int64_t now_ms) {
  const Wide w = l.window_ms;
  const Wide rate = l.requests;  // units per ms
  const Wide full = Wide{l.capacity()} * w;
  if (s.level < 0) {
    s.level = full;
    s.last_ms = now_ms;
  }
  // A clock read that lost the race for the lock (now < last) refills nothing.
  if (now_ms > s.last_ms) {
    s.level = std::min(full, s.level + Wide{now_ms - s.last_ms} * rate);
    s.last_ms = now_ms;
  }
  Decision d;
  d.limit = l.capacity();
  if (s.level >= w) {
    d.allowed = true;
    s.level -= w;
  }
  d.remaining = static_cast<int64_t>(s.level / w);
  auto ceil_ms = [&](Wide units) { return static_cast<int64_t>((units + rate - 1) / rate); };
  if (d.remaining == 0) {
    d.reset_ms = ceil_ms(w - s.level);  // until the next whole token
    if (!d.allowed) d.retry_after_ms = d.reset_ms;
  } else {
    d.reset_ms = ceil_ms(full - s.level);  // until the bucket is full again
  }
  return d;
}

bool token_bucket_idle(const BucketState& s, const Limit& l, int64_t now_ms) {
  if (s.level < 0) return true;
  if (now_ms <= s.last_ms) return false;
  const Wide full = Wide{l.capacity()} * l.window_ms;
  return s.level + Wide{now_ms - s.last_ms} * l.requests >= full;
}

}  // namespace gatehouse::policy::rate_limit
