// Pieces of the upstream exchange shared by HTTP/1.1 (forward.cpp) and
// HTTP/2 (forward_h2.cpp) forwarding.
#include "proxy/forward_util.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "common/strings.hpp"
#include "proxy/exchange.hpp"
#include "proxy/snapshot.hpp"

namespace gatehouse::proxy {

// Passive outlier detection: consecutive failures eject a target for a
// back-off that doubles with each repeat, never ejecting more than
// max_ejection_percent of the upstream.
void record_outcome(UpstreamShared& us, int t, bool connect_failure, bool server_error,
                    int64_t now_ms) {
  const auto& p = us.cfg.health_passive;
  auto& st = *us.states[static_cast<size_t>(t)];
  if (!connect_failure && !server_error) {
    // Reset only when needed: an unconditional store would bounce the cache
    // line between workers on every request.
    if (st.consecutive_5xx.load(std::memory_order_relaxed) != 0) st.consecutive_5xx.store(0);
    if (st.consecutive_connect_failures.load(std::memory_order_relaxed) != 0)
      st.consecutive_connect_failures.store(0);
    return;
  }
  if (!p.enabled) return;
  bool eject = false;
  if (connect_failure) {
    eject = st.consecutive_connect_failures.fetch_add(1) + 1 >= p.consecutive_connect_failures;
  } else {
    eject = st.consecutive_5xx.fetch_add(1) + 1 >= p.consecutive_5xx;
  }
  if (!eject || st.ejected_until_ms.load() > now_ms) return;
  size_t ejected = 0;
  for (const auto& s : us.states)
    if (s->ejected_until_ms.load(std::memory_order_relaxed) > now_ms) ++ejected;
  double pct = 100.0 * static_cast<double>(ejected + 1) / static_cast<double>(us.states.size());
  if (pct > p.max_ejection_percent && ejected > 0) return;
  if (pct > p.max_ejection_percent && us.states.size() == 1 && p.max_ejection_percent < 100) return;
  int n = st.ejection_count.fetch_add(1);
  int64_t backoff = p.base_ejection_ms << std::min(n, 16);
  backoff = std::min(backoff, p.max_ejection_ms);
  st.ejected_until_ms.store(now_ms + backoff);
  st.consecutive_5xx.store(0);
  st.consecutive_connect_failures.store(0);
  log::warn("target ejected", {log::f("upstream", us.cfg.name),
                               log::f("target", us.cfg.targets[static_cast<size_t>(t)].address),
                               log::n("ejection_ms", backoff),
                               log::f("reason", connect_failure ? "connect_failures" : "5xx")});
}

std::string hash_key_for(const config::BalancerConfig& b, const Exchange& ex,
                         std::string_view client_ip) {
  switch (b.hash_on) {
    case config::HashOn::kClientIp:
      return std::string(client_ip);
    case config::HashOn::kPath:
      return ex.target.path;
    case config::HashOn::kHeader: {
      const std::string* v = ex.head->find(b.hash_key);
      return v ? *v : std::string();
    }
    case config::HashOn::kCookie: {
      for (const auto& h : ex.head->headers) {
        if (!iequals(h.name, "cookie")) continue;
        std::string_view v = h.value;
        while (!v.empty()) {
          size_t semi = v.find(';');
          std::string_view pair = trim_ows(v.substr(0, semi));
          size_t eq = pair.find('=');
          if (eq != std::string_view::npos && pair.substr(0, eq) == b.hash_key)
            return std::string(pair.substr(eq + 1));
          if (semi == std::string_view::npos) break;
          v.remove_prefix(semi + 1);
        }
      }
      return {};
    }
    case config::HashOn::kConsumer:
      // The consumer an authentication policy identified; anonymous callers
      // fall back to their address so they still stick somewhere.
      return ex.pctx.consumer ? ex.pctx.consumer->name : std::string(client_ip);
  }
  return {};
}

}  // namespace gatehouse::proxy
