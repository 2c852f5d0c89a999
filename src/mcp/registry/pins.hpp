// Tool pinning: every tool an upstream lists is identified by the SHA-256 of
// its canonical definition. The control plane keeps the approved ("pinned")
// hash per (server, tool) and publishes them as an immutable PinSet; workers
// compare what an upstream lists against it, hide changed tools of servers
// whose policy is `block`, and report definitions (and server health) back to
// the control thread through a sink. Reports are deduplicated per worker, so
// the control plane hears about a definition when it changes, not per list.
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gatehouse::mcp::registry {

namespace json = boost::json;

enum class OnChange { kAllow, kWarn, kBlock };
std::optional<OnChange> parse_on_change(std::string_view s);
std::string_view on_change_name(OnChange c);

// Object members sorted by key (byte order), no whitespace, numbers and
// strings as Boost.JSON writes them: one text per definition however an
// upstream orders its members.
std::string canonical_json(const json::value& v);
// Hex SHA-256 of canonical_json(v).
std::string definition_hash(const json::value& v);

// What changed from `before` to `after`: [{path, op: add|remove|replace,
// before?, after?}], paths as JSON Pointers (RFC 6901). Arrays are compared
// by index.
json::array diff(const json::value& before, const json::value& after);

// The definition kinds the registry records, by the list method they come
// from: "tool" (pinned), "prompt", "resource", "resource_template".
std::string_view kind_of_method(std::string_view method);

struct PinSet {
  struct Server {
    OnChange on_change = OnChange::kWarn;
    std::unordered_map<std::string, std::string> tools;  // tool -> approved hash
  };
  std::unordered_map<std::string, Server> servers;
  OnChange default_on_change = OnChange::kWarn;

  OnChange policy(const std::string& server) const;
  // The approved hash, or null when the tool was never pinned.
  const std::string* pin(const std::string& server, const std::string& tool) const;
};

// A worker's news for the control thread.
struct Report {
  enum class Type { kDefinition, kHealth } type = Type::kDefinition;
  std::string server;
  std::string kind;  // definitions: tool | prompt | resource | resource_template
  std::string name;  // tool/prompt name, resource URI or URI template
  std::string sha256;
  json::object definition;
  bool ok = true;     // health
  std::string error;  // health: why the server failed a list
};
using Sink = std::function<void(Report)>;

// Control thread. Both are safe to call while workers run.
void publish(std::shared_ptr<const PinSet> pins);
std::shared_ptr<const PinSet> current();
void set_sink(Sink sink);  // an empty function disables reporting

enum class Verdict { kNew, kPinned, kChanged };
Verdict judge(const PinSet& pins, const std::string& server, const std::string& tool,
              const std::string& hash);

// Worker: screens one server's listed items of `method` (tools/list,
// prompts/list, resources/list, resources/templates/list). Reports new or
// changed definitions; removes tools whose definition differs from the pin
// when the server's policy is `block`. Returns how many items were removed.
size_t screen(const std::string& server, std::string_view method, std::vector<json::object>& items);
// Worker: the server answered a list (ok) or failed it; reported on change.
void report_health(const std::string& server, bool ok, std::string_view error);

}  // namespace gatehouse::mcp::registry
