// State that must outlive one snapshot. A reload compiles new Policy objects;
// counters that lived in the old ones would reset everybody's limit on every
// config change. So a factory asks for its state by identity (where it is
// attached + the settings that give the counts their meaning) and gets the
// live object when an unchanged policy is recompiled. The registry holds weak
// references only: state dies with the last snapshot that uses it.
//
// Used by rate-limit and concurrency-limit (and later quotas); it belongs in
// src/policies/ once shared files may change.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "policies/policy.hpp"

namespace gatehouse::policy {

// Factories run on the control thread only, so one mutex here is no
// data-plane lock.
template <class T, class Make>
std::shared_ptr<T> shared_state(const std::string& id, Make&& make) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::weak_ptr<T>> states;
  std::lock_guard lock(mu);
  std::erase_if(states, [](const auto& kv) { return kv.second.expired(); });
  if (auto it = states.find(id); it != states.end()) {
    if (auto live = it->second.lock()) return live;
  }
  std::shared_ptr<T> fresh = make();
  states[id] = fresh;
  return fresh;
}

// Where a policy is attached, stable across reloads that only touch other
// entities: "route:<name>/policies[1]" for a route's policy (names, not list
// positions, so adding a route before it changes nothing), "policies[0]" for
// a global one.
inline std::string attachment_id(const BuildContext& ctx) {
  std::string_view f = ctx.field;
  constexpr std::string_view kRoutes = "routes[";
  if (ctx.config && f.substr(0, kRoutes.size()) == kRoutes) {
    size_t close = f.find(']');
    size_t i = 0;
    bool digits = close != std::string_view::npos && close > kRoutes.size();
    for (size_t k = kRoutes.size(); digits && k < close; ++k) {
      if (f[k] < '0' || f[k] > '9')
        digits = false;
      else
        i = i * 10 + static_cast<size_t>(f[k] - '0');
    }
    if (digits && i < ctx.config->routes.size() && close + 1 < f.size() && f[close + 1] == '.')
      return "route:" + ctx.config->routes[i].name + "/" + std::string(f.substr(close + 2));
  }
  return std::string(f);
}

}  // namespace gatehouse::policy
