#include "mcp/jsonrpc/message.hpp"

#include <utility>

#include "common/json.hpp"

namespace gatehouse::mcp::jsonrpc {

const json::object* Message::params() const {
  auto it = raw.find("params");
  if (it == raw.end() || !it->value().is_object()) return nullptr;
  return &it->value().as_object();
}

namespace {

// An id is a string or a number (JSON-RPC 2.0 section 4); MCP further
// forbids null for requests. Fractional numbers are discouraged by JSON-RPC
// and never used by MCP clients, so they are refused too.
bool valid_id(const json::value& v) {
  return v.is_string() || v.is_int64() || v.is_uint64();
}

}  // namespace

std::optional<Message> classify(const json::value& v, Failure& why) {
  why = Failure{};
  if (!v.is_object()) {
    why.message = "a JSON-RPC message must be an object";
    return std::nullopt;
  }
  const json::object& o = v.as_object();
  // Keep the id for the error answer as soon as it is usable.
  auto id_it = o.find("id");
  if (id_it != o.end() && valid_id(id_it->value())) why.id = id_it->value();
  auto ver = o.find("jsonrpc");
  if (ver == o.end() || !ver->value().is_string() || ver->value().as_string() != "2.0") {
    why.message = "\"jsonrpc\" must be exactly \"2.0\"";
    return std::nullopt;
  }
  Message m;
  auto method = o.find("method");
  bool has_result = o.contains("result");
  auto err = o.find("error");
  if (method != o.end()) {
    if (!method->value().is_string()) {
      why.message = "\"method\" must be a string";
      return std::nullopt;
    }
    if (has_result || err != o.end()) {
      why.message = "a request cannot carry \"result\" or \"error\"";
      return std::nullopt;
    }
    auto p = o.find("params");
    if (p != o.end() && !p->value().is_object() && !p->value().is_array()) {
      why.message = "\"params\" must be an object or an array";
      return std::nullopt;
    }
    m.method = std::string(method->value().as_string());
    if (id_it == o.end()) {
      m.kind = Kind::kNotification;
    } else {
      if (!valid_id(id_it->value())) {
        why.message = "\"id\" must be a string or an integer";
        return std::nullopt;
      }
      m.kind = Kind::kRequest;
      m.id = id_it->value();
    }
  } else if (has_result || err != o.end()) {
    if (has_result && err != o.end()) {
      why.message = "a response has either \"result\" or \"error\", not both";
      return std::nullopt;
    }
    if (id_it == o.end()) {
      why.message = "a response needs an \"id\"";
      return std::nullopt;
    }
    // An error answer to a message whose id could not be read has id null.
    if (!valid_id(id_it->value()) && !(err != o.end() && id_it->value().is_null())) {
      why.message = "\"id\" must be a string or an integer";
      return std::nullopt;
    }
    m.id = id_it->value();
    if (has_result) {
      m.kind = Kind::kResult;
    } else {
      const json::value& e = err->value();
      const json::object* eo = e.if_object();
      const json::value* code = eo ? eo->if_contains("code") : nullptr;
      const json::value* msg = eo ? eo->if_contains("message") : nullptr;
      if (!eo || !code || !code->is_int64() || !msg || !msg->is_string()) {
        why.message =
            "\"error\" must be an object with an integer \"code\" and a string \"message\"";
        return std::nullopt;
      }
      m.kind = Kind::kError;
      m.error_code = code->as_int64();
      m.error_message = std::string(msg->as_string());
    }
  } else {
    why.message = "not a request (no \"method\") nor a response (no \"result\" or \"error\")";
    return std::nullopt;
  }
  m.raw = o;
  return m;
}

Parsed parse(std::string_view body, const ParseLimits& limits) {
  Parsed out;
  json::parse_options opt;
  opt.max_depth = limits.max_depth;
  boost::system::error_code ec;
  json::value v = parse_json(body, ec, {}, opt);
  if (ec) {
    Parsed::Item it;
    it.fail.code = kParseError;
    it.fail.message = "invalid JSON: " + ec.message();
    out.items.push_back(std::move(it));
    return out;
  }
  if (v.is_array()) {
    const auto& a = v.as_array();
    if (a.empty() || a.size() > limits.max_batch) {
      Parsed::Item it;
      it.fail.code = kInvalidRequest;
      it.fail.message =
          a.empty() ? "an empty batch is not a valid request"
                    : "a batch may hold at most " + std::to_string(limits.max_batch) + " messages";
      out.items.push_back(std::move(it));
      return out;
    }
    out.batch = true;
    for (const auto& e : a) {
      Parsed::Item it;
      it.msg = classify(e, it.fail);
      out.items.push_back(std::move(it));
    }
    return out;
  }
  Parsed::Item it;
  it.msg = classify(v, it.fail);
  out.items.push_back(std::move(it));
  return out;
}

std::string error_response(const json::value& id, int code, std::string_view message,
                           const json::value* data) {
  json::object e;
  e["code"] = code;
  e["message"] = message;
  if (data) e["data"] = *data;
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id;
  o["error"] = std::move(e);
  return json::serialize(o);
}

std::string result_response(const json::value& id, const json::value& result) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id;
  o["result"] = result;
  return json::serialize(o);
}

json::object make_request(const json::value& id, std::string_view method, json::object params) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id;
  o["method"] = method;
  o["params"] = std::move(params);
  return o;
}

json::object make_notification(std::string_view method, json::object params) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["method"] = method;
  if (!params.empty()) o["params"] = std::move(params);
  return o;
}

}  // namespace gatehouse::mcp::jsonrpc
