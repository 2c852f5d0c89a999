// AWS credentials: parsing, the refresh decision and the shared cache (see
// aws_credentials.hpp). The chain itself is aws_chain.cpp.
#include "ai/providers/aws_credentials.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cctype>
#include <map>
#include <utility>

#include "common/json.hpp"
#include "common/log.hpp"
#include "net/http_client.hpp"

namespace gatehouse::ai::aws {

namespace json = boost::json;

namespace {

// A waiter gives up after this long even if no fetch reported (a worker
// stopped mid-fetch); longer than the chain's own timeouts added up.
constexpr std::chrono::seconds kWaitLimit{15};

Error auth_error(std::string message) {
  return make_error("ai_provider_auth", std::move(message), {}, 502, ErrorSide::kUpstream);
}

bool digits(std::string_view s, size_t at, size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

const json::string* string_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? &v->get_string() : nullptr;
}

}  // namespace

std::optional<Clock::time_point> parse_time(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
      !digits(s, 17, 2, sec))
    return std::nullopt;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || h > 23 || mi > 59 || sec > 60)
    return std::nullopt;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {  // fractional seconds: read, then dropped
    size_t j = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == j) return std::nullopt;
  }
  int64_t offset_s = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = 0, om = 0;
    if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !digits(s, i + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_s = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  int64_t t = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
              h * 3600 + mi * 60 + std::min(sec, 59) - offset_s;
  return Clock::time_point(std::chrono::seconds(t));
}

Result<Credentials> parse_credentials_json(std::string_view body, std::string_view what) {
  boost::system::error_code ec;
  json::value v = parse_json(body, ec);
  if (ec || !v.is_object())
    return auth_error(std::string(what) + " answered something that is not a JSON object");
  const json::object& o = v.get_object();
  // IMDS reports failures in-band ("Code" other than "Success").
  if (const json::string* code = string_field(o, "Code"); code && *code != "Success")
    return auth_error(std::string(what) + " answered Code \"" + std::string(code->subview(0, 64)) +
                      "\"");
  Credentials c;
  c.source = std::string(what);
  const json::string* id = string_field(o, "AccessKeyId");
  const json::string* secret = string_field(o, "SecretAccessKey");
  if (!id || id->empty() || !secret || secret->empty())
    return auth_error(std::string(what) + " answered no AccessKeyId and SecretAccessKey");
  c.keys.access_key_id = std::string(*id);
  c.keys.secret_access_key = std::string(*secret);
  if (const json::string* token = string_field(o, "Token"))
    c.keys.session_token = std::string(*token);
  if (const json::value* e = o.if_contains("Expiration"); e && !e->is_null()) {
    auto t = e->is_string() ? parse_time(e->get_string()) : std::nullopt;
    if (!t)
      return auth_error(std::string(what) + " answered an Expiration that is not a date-time");
    c.expires = *t;
  }
  return c;
}

Clock::time_point refresh_time(const Credentials& c, Clock::time_point fetched, const Timing& t) {
  if (!c.expires) return fetched + t.reread_long_term;
  return std::max(*c.expires - t.refresh_ahead, fetched + t.min_gap);
}

Plan plan(const CacheView& c, Clock::time_point now, const Timing& t) {
  Plan p;
  const bool valid = c.have && (!c.expires || now < *c.expires);
  const bool may_fetch =
      !c.refreshing && (!c.failed_at || now >= *c.failed_at + t.retry_after_failure);
  if (valid) {
    p.use = true;
    p.start_refresh = now >= c.refresh_at && may_fetch;
    return p;
  }
  if (c.refreshing) {
    p.wait = true;
  } else if (may_fetch) {
    p.start_refresh = true;
    p.wait = true;
  } else {
    p.fail = true;
  }
  return p;
}

CredentialSource::CredentialSource(Fetch fetch, std::string label, Timing timing)
    : fetch_(std::move(fetch)), label_(std::move(label)), timing_(timing) {}

std::shared_ptr<CredentialSource> CredentialSource::fixed(sigv4::Credentials keys) {
  auto s = std::make_shared<CredentialSource>(Fetch(), "static keys");
  Credentials c;
  c.keys = std::move(keys);
  c.source = "static keys";
  s->held_.store(std::make_shared<const Held>(Held{std::move(c), Clock::time_point::max()}));
  return s;
}

std::shared_ptr<CredentialSource> CredentialSource::with_fetch(Fetch fetch, std::string label,
                                                               Timing timing) {
  return std::make_shared<CredentialSource>(std::move(fetch), std::move(label), timing);
}

std::shared_ptr<CredentialSource> CredentialSource::chain(const std::string& profile) {
  // Built on the control thread with the catalog; the map only grows by the
  // profiles configured, and a source lives as long as a provider uses it.
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<CredentialSource>> sources;
  std::lock_guard lock(mu);
  auto& slot = sources[profile];
  if (auto s = slot.lock()) return s;
  std::shared_ptr<asio::ssl::context> tls;
  if (auto ep = container_endpoint(); ep && ep->url.rfind("https:", 0) == 0)
    if (auto ctx = net::make_tls_client_context("")) tls = *ctx;
  auto s = std::make_shared<CredentialSource>(
      [profile, tls]() { return resolve_chain(profile, tls); },
      profile.empty() ? std::string("aws chain") : "aws chain (profile " + profile + ")");
  slot = s;
  return s;
}

CacheView CredentialSource::view(const std::shared_ptr<const Held>& h) const {
  CacheView v;
  if (h) {
    v.have = true;
    v.expires = h->creds.expires;
    v.refresh_at = h->refresh_at;
  }
  v.refreshing = refreshing_;
  v.failed_at = failed_at_;
  return v;
}

awaitable<Result<std::shared_ptr<const Credentials>>> CredentialSource::get() {
  auto as_creds = [](std::shared_ptr<const Held> h) {
    return std::shared_ptr<const Credentials>(h, &h->creds);
  };
  std::shared_ptr<const Held> h = held_.load(std::memory_order_acquire);
  if (h && Clock::now() < h->refresh_at) co_return as_creds(std::move(h));  // the hot path

  auto ex = co_await asio::this_coro::executor;
  Plan p;
  std::shared_ptr<asio::steady_timer> timer;
  {
    std::lock_guard lock(mu_);
    h = held_.load(std::memory_order_acquire);
    p = plan(view(h), Clock::now(), timing_);
    if (p.start_refresh) refreshing_ = true;
    if (p.wait) {
      timer = std::make_shared<asio::steady_timer>(ex, kWaitLimit);
      waiters_.push_back(Waiter{ex, timer});
    }
    if (p.fail) co_return last_error_;
  }
  // Spawned outside the lock: a fetch that needs no I/O (environment) may
  // run to completion right here and take the lock itself.
  if (p.start_refresh) asio::co_spawn(ex, refresh(shared_from_this()), asio::detached);
  if (p.use) co_return as_creds(std::move(h));
  co_await timer->async_wait(use_nothrow);
  h = held_.load(std::memory_order_acquire);
  if (h && (!h->creds.expires || Clock::now() < *h->creds.expires))
    co_return as_creds(std::move(h));
  std::lock_guard lock(mu_);
  if (failed_at_) co_return last_error_;
  co_return auth_error(label_ + ": no credentials after waiting " +
                       std::to_string(kWaitLimit.count()) + "s for the fetch");
}

awaitable<void> CredentialSource::refresh(std::shared_ptr<CredentialSource> /*keep*/) {
  auto r = co_await fetch_();
  const auto now = Clock::now();
  std::vector<Waiter> waiters;
  std::string failure;
  {
    std::lock_guard lock(mu_);
    refreshing_ = false;
    if (r) {
      // Keys that expired already (a skewed clock, a stale endpoint) are a failure.
      if (r->expires && *r->expires <= now) {
        r = auth_error(label_ + ": " + r->source + " handed out credentials that expired already");
      } else {
        Clock::time_point at = refresh_time(*r, now, timing_);
        held_.store(std::make_shared<const Held>(Held{std::move(r.value()), at}),
                    std::memory_order_release);
        failed_at_.reset();
      }
    }
    if (!r) {
      failed_at_ = now;
      last_error_ = r.error();
      last_error_.code = "ai_provider_auth";
      last_error_.status = 502;
      failure = last_error_.message;
    }
    waiters.swap(waiters_);
  }
  if (r) {
    auto h = held_.load(std::memory_order_acquire);
    log::info(
        "aws credentials fetched",
        {log::f("source", label_), log::f("from", h->creds.source),
         log::n(
             "expires_in_s",
             h->creds.expires
                 ? std::chrono::duration_cast<std::chrono::seconds>(*h->creds.expires - now).count()
                 : -1)});
  } else {
    // Never the keys: the message names sources and reasons only.
    auto h = held_.load(std::memory_order_acquire);
    log::warn("aws credentials fetch failed",
              {log::f("source", label_), log::f("error", failure),
               log::f("serving", h && (!h->creds.expires || now < *h->creds.expires)
                                     ? "previous credentials until they expire"
                                     : "nothing: calls fail with ai_provider_auth")});
  }
  for (auto& w : waiters) asio::post(w.ex, [t = w.timer] { t->cancel(); });
}

}  // namespace gatehouse::ai::aws
