#include "policies/request_transformer/json_doc.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace gatehouse::policy {

namespace bj = boost::json;

JsonNode JsonNode::null() {
  return JsonNode{};
}

JsonNode JsonNode::from_bool(bool b) {
  JsonNode n;
  n.kind = Kind::kBool;
  n.boolean = b;
  return n;
}

JsonNode JsonNode::number(std::string lexeme) {
  JsonNode n;
  n.kind = Kind::kNumber;
  n.text = std::move(lexeme);
  return n;
}

JsonNode JsonNode::string(std::string s) {
  JsonNode n;
  n.kind = Kind::kString;
  n.text = std::move(s);
  return n;
}

JsonNode JsonNode::array() {
  JsonNode n;
  n.kind = Kind::kArray;
  return n;
}

JsonNode JsonNode::object() {
  JsonNode n;
  n.kind = Kind::kObject;
  return n;
}

JsonNode* JsonNode::find(std::string_view key) {
  for (auto& m : members)
    if (m.key == key) return &m.value;
  return nullptr;
}

bool JsonNode::erase(std::string_view key) {
  auto it = std::remove_if(members.begin(), members.end(),
                           [&](const JsonMember& m) { return m.key == key; });
  bool found = it != members.end();
  members.erase(it, members.end());
  return found;
}

namespace {

// Builds the tree from Boost.JSON's SAX events. Containers under
// construction live on a stack of values (not pointers into parents, which
// move when a parent's vector grows) and are attached when they close.
class Builder {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  JsonNode root;

  bool on_document_begin(bj::error_code&) { return true; }
  bool on_document_end(bj::error_code&) { return true; }
  bool on_array_begin(bj::error_code&) {
    stack_.push_back(JsonNode::array());
    return true;
  }
  bool on_array_end(std::size_t, bj::error_code&) { return close(); }
  bool on_object_begin(bj::error_code&) {
    stack_.push_back(JsonNode::object());
    return true;
  }
  bool on_object_end(std::size_t, bj::error_code&) { return close(); }
  bool on_string_part(bj::string_view s, std::size_t, bj::error_code&) {
    part_.append(s.data(), s.size());
    return true;
  }
  bool on_string(bj::string_view s, std::size_t, bj::error_code&) {
    part_.append(s.data(), s.size());
    attach(JsonNode::string(std::exchange(part_, {})));
    return true;
  }
  bool on_key_part(bj::string_view s, std::size_t, bj::error_code&) {
    part_.append(s.data(), s.size());
    return true;
  }
  bool on_key(bj::string_view s, std::size_t, bj::error_code&) {
    part_.append(s.data(), s.size());
    keys_.push_back(std::exchange(part_, {}));
    return true;
  }
  bool on_number_part(bj::string_view s, bj::error_code&) {
    part_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t, bj::string_view s, bj::error_code&) { return number(s); }
  bool on_uint64(uint64_t, bj::string_view s, bj::error_code&) { return number(s); }
  bool on_double(double, bj::string_view s, bj::error_code&) { return number(s); }
  bool on_bool(bool b, bj::error_code&) {
    attach(JsonNode::from_bool(b));
    return true;
  }
  bool on_null(bj::error_code&) {
    attach(JsonNode::null());
    return true;
  }
  bool on_comment_part(bj::string_view, bj::error_code&) { return true; }
  bool on_comment(bj::string_view, bj::error_code&) { return true; }

 private:
  bool number(bj::string_view s) {
    part_.append(s.data(), s.size());
    attach(JsonNode::number(std::exchange(part_, {})));
    return true;
  }
  bool close() {
    JsonNode n = std::move(stack_.back());
    stack_.pop_back();
    attach(std::move(n));
    return true;
  }
  void attach(JsonNode n) {
    if (stack_.empty()) {
      root = std::move(n);
      return;
    }
    JsonNode& top = stack_.back();
    if (top.kind == JsonNode::Kind::kArray) {
      top.items.push_back(std::move(n));
    } else {
      top.members.push_back({std::move(keys_.back()), std::move(n)});
      keys_.pop_back();
    }
  }

  std::vector<JsonNode> stack_;
  std::vector<std::string> keys_;
  std::string part_;
};

void print_string(std::string_view s, std::string& out) {
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (u < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

Result<JsonNode> parse_json(std::string_view text) {
  bj::parse_options opt;
  opt.max_depth = kMaxJsonDepth;
  bj::basic_parser<Builder> p(opt);
  bj::error_code ec;
  size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (ec) {
    return make_error("invalid_json",
                      "not valid JSON at byte " + std::to_string(n) + ": " + ec.message(), {}, 0,
                      ErrorSide::kDownstream);
  }
  // write_some stops after one value: anything but whitespace after it is a
  // second value, which a JSON text may not have.
  size_t rest = text.find_first_not_of(" \t\r\n", n);
  if (rest != std::string_view::npos) {
    return make_error("invalid_json",
                      "not valid JSON at byte " + std::to_string(rest) + ": data after the value",
                      {}, 0, ErrorSide::kDownstream);
  }
  return std::move(p.handler().root);
}

void print_json(const JsonNode& n, std::string& out) {
  switch (n.kind) {
    case JsonNode::Kind::kNull: out += "null"; return;
    case JsonNode::Kind::kBool: out += n.boolean ? "true" : "false"; return;
    case JsonNode::Kind::kNumber: out += n.text; return;
    case JsonNode::Kind::kString: print_string(n.text, out); return;
    case JsonNode::Kind::kArray:
      out += '[';
      for (size_t i = 0; i < n.items.size(); ++i) {
        if (i) out += ',';
        print_json(n.items[i], out);
      }
      out += ']';
      return;
    case JsonNode::Kind::kObject:
      out += '{';
      for (size_t i = 0; i < n.members.size(); ++i) {
        if (i) out += ',';
        print_string(n.members[i].key, out);
        out += ':';
        print_json(n.members[i].value, out);
      }
      out += '}';
      return;
  }
}

bool is_json_number(std::string_view s) {
  size_t i = 0;
  auto digit = [&](size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '9'; };
  if (i < s.size() && s[i] == '-') ++i;
  if (!digit(i)) return false;
  if (s[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == s.size();
}

}  // namespace gatehouse::policy
