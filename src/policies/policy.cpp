#include "policies/policy.hpp"

#include <algorithm>

namespace gatehouse::policy {

const Consumer* ConsumerSet::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : &consumers_[it->second];
}

Registry& Registry::instance() {
  static Registry r;
  return r;
}

void Registry::add(std::string name, Factory f) { factories_[std::move(name)] = std::move(f); }

const Factory* Registry::find(std::string_view name) const {
  auto it = factories_.find(std::string(name));
  return it == factories_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  for (const auto& [n, f] : factories_) out.push_back(n);
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::shared_ptr<const Policy>> compile(const config::PolicyRef& ref,
                                              const BuildContext& ctx) {
  const Factory* f = Registry::instance().find(ref.name);
  if (!f) {
    std::string known;
    for (const auto& n : Registry::instance().names()) known += (known.empty() ? "" : ", ") + n;
    return make_error("unknown_policy", "unknown policy '" + ref.name + "' (known: " + known + ")",
                      ctx.field + ".name", 0, ErrorSide::kConfig);
  }
  return (*f)(ref, ctx);
}

Result<std::shared_ptr<const ConsumerSet>> build_consumers(
    const std::vector<config::ConsumerConfig>& consumers) {
  auto set = std::make_shared<ConsumerSet>();
  set->configs_ = consumers;
  for (size_t i = 0; i < consumers.size(); ++i) {
    Consumer c;
    c.name = consumers[i].name;
    c.groups = consumers[i].groups;
    c.index = i;
    if (!set->by_name_.emplace(c.name, i).second) {
      return make_error("duplicate_name", "consumer '" + c.name + "' is defined twice",
                        "consumers[" + std::to_string(i) + "].name", 0, ErrorSide::kConfig);
    }
    set->consumers_.push_back(std::move(c));
  }
  return std::shared_ptr<const ConsumerSet>(std::move(set));
}

}  // namespace gatehouse::policy
