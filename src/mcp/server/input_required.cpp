#include "mcp/server/input_required.hpp"

#include <cctype>

#include "common/json.hpp"
#include "mcp/jsonrpc/message.hpp"
#include "policies/crypto.hpp"

namespace gatehouse::mcp::mrtr {

bool applies(std::string_view method) {
  return method == "tools/call" || method == "prompts/get" || method == "resources/read";
}

bool input_method(std::string_view method) {
  return method == "sampling/createMessage" || method == "elicitation/create" ||
         method == "roots/list";
}

namespace {

const json::object* member_object(const json::object* o, std::string_view k) {
  const json::value* v = o ? o->if_contains(k) : nullptr;
  return v ? v->if_object() : nullptr;
}

std::string member_string(const json::object* o, std::string_view k) {
  const json::value* v = o ? o->if_contains(k) : nullptr;
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

std::optional<json::object> missing_capability(const json::object& upstream_request,
                                               const json::object* declared) {
  std::string method = member_string(&upstream_request, "method");
  const json::object* params = member_object(&upstream_request, "params");
  if (method == "sampling/createMessage") {
    const json::object* s = member_object(declared, "sampling");
    // Tool use in sampling is a capability of its own (2025-11-25).
    bool tools = params && (params->contains("tools") || params->contains("toolChoice"));
    if (s && (!tools || s->contains("tools"))) return std::nullopt;
    json::object need;
    need["sampling"] = tools ? json::object{{"tools", json::object{}}} : json::object{};
    return need;
  }
  if (method == "elicitation/create") {
    const json::object* e = member_object(declared, "elicitation");
    // An empty elicitation object means form mode (2025-11-25).
    bool url = member_string(params, "mode") == "url";
    bool ok = e && (url ? e->contains("url") : (e->empty() || e->contains("form")));
    if (ok) return std::nullopt;
    json::object need;
    need["elicitation"] = json::object{{url ? "url" : "form", json::object{}}};
    return need;
  }
  if (method == "roots/list") {
    if (member_object(declared, "roots")) return std::nullopt;
    return json::object{{"roots", json::object{}}};
  }
  return std::nullopt;
}

json::object upstream_capabilities() {
  return json::object{
      {"sampling", json::object{}},
      {"elicitation", json::object{{"form", json::object{}}, {"url", json::object{}}}},
      {"roots", json::object{}}};
}

namespace {

// A hint is used only when it is a plain name, so a key never needs escaping
// anywhere a client may show or log it.
bool plain_key(std::string_view k) {
  if (k.empty() || k.size() > 64) return false;
  for (unsigned char c : k)
    if (!std::isalnum(c) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

std::string_view kind_of(std::string_view method) {
  if (method == "sampling/createMessage") return "sampling";
  if (method == "elicitation/create") return "elicitation";
  if (method == "roots/list") return "roots";
  return "input";
}

}  // namespace

std::string input_key(const json::object& upstream_request, std::map<std::string, int>& seen) {
  std::string method = member_string(&upstream_request, "method");
  const json::object* params = member_object(&upstream_request, "params");
  std::string key = member_string(member_object(params, "_meta"), kMetaInputKey);
  if (!plain_key(key)) {
    // The question's content names it (without _meta, where SDKs put
    // per-send values such as progress tokens).
    json::object p = params ? *params : json::object{};
    p.erase("_meta");
    std::string digest = policy::sha256(method + '\n' + json::serialize(p));
    key = std::string(kind_of(method)) + '-' + policy::hex(digest.substr(0, 6));
  }
  int n = ++seen[key];
  return n == 1 ? key : key + '-' + std::to_string(n);
}

json::object input_request(const json::object& upstream_request) {
  json::object out;
  const json::value* m = upstream_request.if_contains("method");
  out["method"] = m ? *m : json::value("");
  const json::object* params = member_object(&upstream_request, "params");
  json::object p = params ? *params : json::object{};
  if (auto* meta = p.if_contains("_meta"); meta && meta->is_object()) {
    meta->as_object().erase(kMetaInputKey);
    if (meta->as_object().empty()) p.erase("_meta");
  }
  out["params"] = std::move(p);
  return out;
}

std::string State::encode() const {
  json::object o;
  o["r"] = route;
  o["c"] = consumer;
  o["m"] = method;
  o["t"] = target;
  o["n"] = node;
  o["w"] = worker;
  o["p"] = pending;
  json::array k;
  for (const auto& s : keys) k.emplace_back(s);
  o["k"] = std::move(k);
  o["a"] = answers;
  o["x"] = expires_s;
  return json::serialize(o);
}

std::optional<State> State::decode(std::string_view plain) {
  boost::system::error_code ec;
  json::value v = parse_json(plain, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.as_object();
  State s;
  const std::pair<const char*, std::string*> strings[] = {
      {"r", &s.route}, {"c", &s.consumer}, {"m", &s.method}, {"t", &s.target}, {"n", &s.node}};
  for (auto [k, field] : strings) {
    const json::value* f = o.if_contains(k);
    if (!f || !f->is_string()) return std::nullopt;
    *field = f->as_string();
  }
  const json::value* w = o.if_contains("w");
  const json::value* p = o.if_contains("p");
  const json::value* x = o.if_contains("x");
  const json::value* k = o.if_contains("k");
  const json::value* a = o.if_contains("a");
  if (!w || !w->is_number() || !p || !p->is_number() || !x || !x->is_int64() || !k ||
      !k->is_array() || !a || !a->is_object())
    return std::nullopt;
  boost::system::error_code nec;
  s.worker = w->to_number<uint64_t>(nec);
  if (nec) return std::nullopt;
  s.pending = p->to_number<uint64_t>(nec);
  if (nec) return std::nullopt;
  s.expires_s = x->as_int64();
  for (const auto& e : k->as_array()) {
    if (!e.is_string()) return std::nullopt;
    s.keys.emplace_back(e.as_string());
  }
  s.answers = a->as_object();
  return s;
}

std::string State::seal(const SessionKey& key) const {
  return std::string(kStatePrefix) + key.seal(encode());
}

std::optional<State> State::open(const SessionKey& key, std::string_view token) {
  if (!ours(token)) return std::nullopt;
  auto plain = key.open(token.substr(kStatePrefix.size()));
  if (!plain) return std::nullopt;
  return decode(*plain);
}

std::string refusal(const State& st, std::string_view route, std::string_view consumer,
                    std::string_view method, std::string_view target, int64_t now_s) {
  if (st.route != route || st.consumer != consumer || st.method != method || st.target != target)
    return "params.requestState belongs to another request";
  if (st.expires_s < now_s) return "params.requestState has expired; send the request anew";
  return {};
}

uint64_t held_here(const State& st, std::string_view node, uint64_t worker) {
  return st.node == node && st.worker == worker ? st.pending : 0;
}

json::object reissue_answers(const State* st, const json::object& responses) {
  json::object out = st ? st->answers : json::object{};
  for (const auto& [k, v] : responses) out[k] = v;
  return out;
}

json::object carried_answers(const json::object& answers) {
  return json::serialize(answers).size() <= kMaxCarriedAnswers ? answers : json::object{};
}

Retry Retry::parse(const json::object* params) {
  Retry r;
  if (!params) return r;
  if (const json::value* v = params->if_contains("inputResponses")) {
    if (!v->is_object()) {
      r.error = "params.inputResponses must be an object of input responses";
      return r;
    }
    for (const auto& [k, resp] : v->as_object()) {
      if (!resp.is_object()) {
        r.error = "params.inputResponses[\"" + std::string(k) + "\"] must be an object";
        return r;
      }
    }
    r.responses = v->as_object();
  }
  if (const json::value* v = params->if_contains("requestState")) {
    if (!v->is_string()) {
      r.error = "params.requestState must be a string";
      return r;
    }
    r.state = std::string(v->as_string());
  }
  return r;
}

void strip_retry(json::object& params) {
  params.erase("inputResponses");
  params.erase("requestState");
}

std::string target_of(std::string_view method, const json::object* params) {
  return member_string(params, method == "resources/read" ? "uri" : "name");
}

std::string input_required_response(const json::value& id, const json::object& requests,
                                    const std::string& state) {
  json::object result;
  result["resultType"] = kResultType;
  result["inputRequests"] = requests;
  result["requestState"] = state;
  return jsonrpc::result_response(id, result);
}

}  // namespace gatehouse::mcp::mrtr
