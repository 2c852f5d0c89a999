// libFuzzer target: the 2026-07-28 input-required (MRTR) rules a client's
// retry and an upstream's request go through: the retry members
// (inputResponses, requestState), the requestState's decoding after it is
// opened, the input-request keys and the capability checks. Input: the
// request params (JSON) on the first line, then an upstream request (JSON)
// on the second, then the declared client capabilities (JSON) on the third.
// Seeds live in fuzz/corpus/mcp_input_required/.
#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mcp/server/input_required.hpp"

using namespace gatehouse::mcp;
namespace json = boost::json;

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

namespace {

std::optional<json::object> object_of(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string_view lines[3];
  for (auto& l : lines) {
    size_t nl = text.find('\n');
    l = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
  }
  if (auto params = object_of(lines[0])) {
    mrtr::Retry r = mrtr::Retry::parse(&*params);
    if (r.error.empty()) {
      for (const auto& [k, v] : r.responses) CHECK(v.is_object());
      mrtr::strip_retry(*params);
      CHECK(!params->contains("inputResponses") && !params->contains("requestState"));
    }
    (void)mrtr::target_of("resources/read", &*params);
  }
  // A state decodes only to what encodes back to an equal state.
  if (auto st = mrtr::State::decode(lines[0])) {
    auto again = mrtr::State::decode(st->encode());
    CHECK(again && again->route == st->route && again->pending == st->pending &&
          again->worker == st->worker && again->keys == st->keys &&
          again->expires_s == st->expires_s && again->answers == st->answers);
  }
  if (auto req = object_of(lines[1])) {
    std::map<std::string, int> seen;
    std::string k1 = mrtr::input_key(*req, seen);
    std::string k2 = mrtr::input_key(*req, seen);
    CHECK(!k1.empty() && k2 == k1 + "-2");
    for (unsigned char c : k1) CHECK(c > 0x20 && c < 0x7f);
    std::map<std::string, int> fresh;
    CHECK(mrtr::input_key(*req, fresh) == k1);  // deterministic
    json::object shown = mrtr::input_request(*req);
    CHECK(shown.contains("method") && shown.at("params").is_object());
    auto declared = object_of(lines[2]);
    auto need = mrtr::missing_capability(*req, declared ? &*declared : nullptr);
    if (need) {
      CHECK(need->size() == 1);
      // What it names, declared, covers the request.
      CHECK(!mrtr::missing_capability(*req, &*need));
    }
  }
  return 0;
}
