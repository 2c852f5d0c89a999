#include "ai/gateway/cooldown.hpp"

#include <time.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "common/metrics.hpp"

namespace gatehouse::ai::gateway {

void Cooldown::start(int64_t now_ms, int64_t ms) {
  ms = std::clamp<int64_t>(ms, 0, kMaxCooldownMs);
  if (ms == 0) return;
  int64_t until = now_ms + ms;
  int64_t cur = until_ms_.load(std::memory_order_relaxed);
  while (cur < until && !until_ms_.compare_exchange_weak(cur, until, std::memory_order_relaxed)) {
  }
  started_.fetch_add(1, std::memory_order_relaxed);
}

namespace {

struct Registry {
  std::mutex mu;  // control thread and scrapes only
  // (provider, key hash) -> slot. The key itself is not kept.
  std::map<std::pair<std::string, size_t>, std::unique_ptr<Cooldown>> map;
};
Registry& registry() {
  static Registry r;
  return r;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Unsigned decimal digits only (Retry-After's delta-seconds grammar).
bool parse_digits(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 12) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0;
}

int64_t parse_http_date_ms(std::string_view s) {
  // strptime needs a terminated string; dates are short.
  if (s.size() > 64) return -1;
  std::string z(s);
  static constexpr const char* kFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate
      "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850
      "%a %b %e %H:%M:%S %Y",       // asctime
  };
  for (const char* f : kFormats) {
    struct tm tm {};
    const char* end = strptime(z.c_str(), f, &tm);
    if (!end || *end != '\0') continue;
    time_t t = timegm(&tm);
    if (t == static_cast<time_t>(-1)) continue;
    return static_cast<int64_t>(t) * 1000;
  }
  return -1;
}

}  // namespace

Cooldown* cooldown_for(const std::string& provider, const std::string& api_key) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  auto& slot = r.map[{provider, std::hash<std::string>{}(api_key)}];
  if (!slot) slot = std::make_unique<Cooldown>(provider);
  return slot.get();
}

std::string render_cooldown_metrics(int64_t now_ms) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  // Per provider: keys rotated by reloads add up.
  std::map<std::string, std::array<uint64_t, 3>> by_provider;
  for (const auto& [k, c] : r.map) {
    auto& v = by_provider[k.first];
    v[0] += c->started();
    v[1] += c->skipped();
    v[2] = std::max<uint64_t>(v[2], c->remaining_ms(now_ms) > 0 ? 1 : 0);
  }
  std::string started =
      "# HELP gatehouse_llm_cooldowns_total Cooldowns begun after a provider's 429/503 with "
      "Retry-After.\n# TYPE gatehouse_llm_cooldowns_total counter\n";
  std::string skipped =
      "# HELP gatehouse_llm_cooldown_skips_total Attempts not made because the target was "
      "cooling down.\n# TYPE gatehouse_llm_cooldown_skips_total counter\n";
  std::string cooling =
      "# HELP gatehouse_llm_cooling_down 1 while a provider is cooling down.\n"
      "# TYPE gatehouse_llm_cooling_down gauge\n";
  for (const auto& [p, v] : by_provider) {
    std::string l = "{provider=\"" + metrics::label_escape(p) + "\"} ";
    started += "gatehouse_llm_cooldowns_total" + l + std::to_string(v[0]) + "\n";
    skipped += "gatehouse_llm_cooldown_skips_total" + l + std::to_string(v[1]) + "\n";
    cooling += "gatehouse_llm_cooling_down" + l + std::to_string(v[2]) + "\n";
  }
  return started + skipped + cooling;
}

int64_t retry_after_ms(std::string_view retry_after, std::string_view ms_header,
                       int64_t now_unix_ms) {
  ms_header = trim(ms_header);
  if (!ms_header.empty()) {
    // retry-after-ms may carry a fraction ("1500.5").
    double v = 0;
    auto [p, ec] = std::from_chars(ms_header.data(), ms_header.data() + ms_header.size(), v);
    if (ec == std::errc() && p == ms_header.data() + ms_header.size() && v >= 0 && std::isfinite(v))
      return static_cast<int64_t>(std::ceil(std::min(v, 1e12)));
  }
  retry_after = trim(retry_after);
  if (retry_after.empty()) return -1;
  int64_t secs = 0;
  if (parse_digits(retry_after, secs)) return secs * 1000;
  int64_t at = parse_http_date_ms(retry_after);
  if (at < 0) return -1;
  return std::max<int64_t>(at - now_unix_ms, 0);
}

}  // namespace gatehouse::ai::gateway
