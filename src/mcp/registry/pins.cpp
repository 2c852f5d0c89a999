#include "mcp/registry/pins.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>

#include "common/clock.hpp"
#include "common/log.hpp"

namespace gatehouse::mcp::registry {

namespace {

// A definition seen again after this long is reported again, so the
// registry's last_seen moves while nothing changes (cheap: one post a
// minute per worker and definition at most).
constexpr int64_t kRefreshMs = 60'000;

std::atomic<std::shared_ptr<const PinSet>>& pin_slot() {
  static std::atomic<std::shared_ptr<const PinSet>> slot{std::make_shared<const PinSet>()};
  return slot;
}

std::atomic<std::shared_ptr<const Sink>>& sink_slot() {
  static std::atomic<std::shared_ptr<const Sink>> slot;
  return slot;
}

void write_canonical(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::object: {
      const auto& o = v.get_object();
      std::vector<const json::key_value_pair*> members;
      members.reserve(o.size());
      for (const auto& kv : o) members.push_back(&kv);
      std::sort(members.begin(), members.end(),
                [](auto* a, auto* b) { return a->key() < b->key(); });
      out += '{';
      for (size_t i = 0; i < members.size(); ++i) {
        if (i) out += ',';
        out += json::serialize(json::string(members[i]->key()));
        out += ':';
        write_canonical(members[i]->value(), out);
      }
      out += '}';
      return;
    }
    case json::kind::array: {
      out += '[';
      const auto& a = v.get_array();
      for (size_t i = 0; i < a.size(); ++i) {
        if (i) out += ',';
        write_canonical(a[i], out);
      }
      out += ']';
      return;
    }
    default:
      out += json::serialize(v);
  }
}

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

void diff_into(const json::value& a, const json::value& b, const std::string& path,
               json::array& out) {
  if (a.is_object() && b.is_object()) {
    const auto& ao = a.get_object();
    const auto& bo = b.get_object();
    std::vector<std::string> keys;
    for (const auto& kv : ao) keys.emplace_back(kv.key());
    for (const auto& kv : bo)
      if (!ao.contains(kv.key())) keys.emplace_back(kv.key());
    std::sort(keys.begin(), keys.end());
    for (const auto& k : keys) {
      std::string p = path + "/" + pointer_token(k);
      const json::value* x = ao.if_contains(k);
      const json::value* y = bo.if_contains(k);
      if (x && y) {
        diff_into(*x, *y, p, out);
      } else if (x) {
        out.push_back(json::object{{"path", p}, {"op", "remove"}, {"before", *x}});
      } else {
        out.push_back(json::object{{"path", p}, {"op", "add"}, {"after", *y}});
      }
    }
    return;
  }
  if (a.is_array() && b.is_array()) {
    const auto& aa = a.get_array();
    const auto& ba = b.get_array();
    size_t n = std::max(aa.size(), ba.size());
    for (size_t i = 0; i < n; ++i) {
      std::string p = path + "/" + std::to_string(i);
      if (i < aa.size() && i < ba.size()) {
        diff_into(aa[i], ba[i], p, out);
      } else if (i < aa.size()) {
        out.push_back(json::object{{"path", p}, {"op", "remove"}, {"before", aa[i]}});
      } else {
        out.push_back(json::object{{"path", p}, {"op", "add"}, {"after", ba[i]}});
      }
    }
    return;
  }
  if (canonical_json(a) != canonical_json(b))
    out.push_back(json::object{{"path", path}, {"op", "replace"}, {"before", a}, {"after", b}});
}

std::string item_key(std::string_view kind, const json::object& item) {
  const char* field = kind == "resource"            ? "uri"
                      : kind == "resource_template" ? "uriTemplate"
                                                    : "name";
  const json::value* v = item.if_contains(field);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

void emit(Report r) {
  auto sink = sink_slot().load(std::memory_order_acquire);
  if (sink && *sink) (*sink)(std::move(r));
}

struct Seen {
  std::string hash;
  int64_t at_ms = 0;
};

std::unordered_map<std::string, Seen>& seen() {
  thread_local std::unordered_map<std::string, Seen> m;
  return m;
}

// True when this worker should tell the control plane about `hash` now.
bool fresh(const std::string& key, const std::string& hash) {
  auto& s = seen()[key];
  int64_t now = steady_ms();
  if (s.hash == hash && s.at_ms != 0 && now - s.at_ms < kRefreshMs) return false;
  s.hash = hash;
  s.at_ms = now;
  return true;
}

}  // namespace

std::optional<OnChange> parse_on_change(std::string_view s) {
  if (s == "allow") return OnChange::kAllow;
  if (s == "warn") return OnChange::kWarn;
  if (s == "block") return OnChange::kBlock;
  return std::nullopt;
}

std::string_view on_change_name(OnChange c) {
  switch (c) {
    case OnChange::kAllow:
      return "allow";
    case OnChange::kWarn:
      return "warn";
    case OnChange::kBlock:
      return "block";
  }
  return "warn";
}

std::string canonical_json(const json::value& v) {
  std::string out;
  write_canonical(v, out);
  return out;
}

std::string definition_hash(const json::value& v) {
  std::string text = canonical_json(v);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

json::array diff(const json::value& before, const json::value& after) {
  json::array out;
  diff_into(before, after, "", out);
  return out;
}

std::string_view kind_of_method(std::string_view method) {
  if (method == "tools/list") return "tool";
  if (method == "prompts/list") return "prompt";
  if (method == "resources/list") return "resource";
  if (method == "resources/templates/list") return "resource_template";
  return {};
}

OnChange PinSet::policy(const std::string& server) const {
  auto it = servers.find(server);
  return it == servers.end() ? default_on_change : it->second.on_change;
}

const std::string* PinSet::pin(const std::string& server, const std::string& tool) const {
  auto it = servers.find(server);
  if (it == servers.end()) return nullptr;
  auto t = it->second.tools.find(tool);
  return t == it->second.tools.end() ? nullptr : &t->second;
}

void publish(std::shared_ptr<const PinSet> pins) {
  if (!pins) pins = std::make_shared<const PinSet>();
  pin_slot().store(std::move(pins), std::memory_order_release);
}

std::shared_ptr<const PinSet> current() {
  return pin_slot().load(std::memory_order_acquire);
}

void set_sink(Sink sink) {
  sink_slot().store(sink ? std::make_shared<const Sink>(std::move(sink)) : nullptr,
                    std::memory_order_release);
}

Verdict judge(const PinSet& pins, const std::string& server, const std::string& tool,
              const std::string& hash) {
  const std::string* p = pins.pin(server, tool);
  if (!p) return Verdict::kNew;
  return *p == hash ? Verdict::kPinned : Verdict::kChanged;
}

size_t screen(const std::string& server, std::string_view method,
              std::vector<json::object>& items) {
  std::string_view kind = kind_of_method(method);
  if (kind.empty()) return 0;
  auto pins = current();
  const bool tools = kind == "tool";
  const OnChange policy = pins->policy(server);
  size_t removed = 0;
  std::vector<json::object> kept;
  kept.reserve(items.size());
  for (auto& item : items) {
    std::string name = item_key(kind, item);
    std::string hash = definition_hash(item);
    Verdict v = tools ? judge(*pins, server, name, hash) : Verdict::kPinned;
    std::string key = server + '\x1f' + std::string(kind) + '\x1f' + name;
    if (fresh(key, hash)) {
      if (v == Verdict::kChanged)
        log::warn("mcp tool definition changed",
                  {log::f("server", server), log::f("tool", name), log::f("sha256", hash),
                   log::f("on_change", std::string(on_change_name(policy)))});
      Report r;
      r.server = server;
      r.kind = std::string(kind);
      r.name = name;
      r.sha256 = hash;
      r.definition = item;
      emit(std::move(r));
    }
    if (v == Verdict::kChanged && policy == OnChange::kBlock) {
      ++removed;
      continue;
    }
    kept.push_back(std::move(item));
  }
  items = std::move(kept);
  return removed;
}

void report_health(const std::string& server, bool ok, std::string_view error) {
  std::string key = server + "\x1fhealth";
  if (!fresh(key, ok ? std::string("ok") : "down:" + std::string(error))) return;
  Report r;
  r.type = Report::Type::kHealth;
  r.server = server;
  r.ok = ok;
  r.error = std::string(error);
  emit(std::move(r));
}

}  // namespace gatehouse::mcp::registry
