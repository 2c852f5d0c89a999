#include "ai/translate/raw_request.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "common/json.hpp"

namespace gatehouse::ai {
namespace json = boost::json;
namespace {

constexpr size_t kNpos = std::string_view::npos;

size_t skip_ws(std::string_view t, size_t i) {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  return i;
}

// `i` at an opening quote: one past the closing quote, or npos when cut.
size_t skip_string(std::string_view t, size_t i) {
  for (++i; i < t.size(); ++i) {
    if (t[i] == '\\') {
      ++i;  // the escaped byte (\uXXXX's digits are plain bytes after it)
    } else if (t[i] == '"') {
      return i + 1;
    }
  }
  return kNpos;
}

// `i` at a value's first byte: one past its last byte, or npos.
size_t skip_value(std::string_view t, size_t i) {
  if (i >= t.size()) return kNpos;
  if (t[i] == '"') return skip_string(t, i);
  if (t[i] == '{' || t[i] == '[') {
    // Depth only: the text was accepted by a parser, so brackets match.
    size_t depth = 0;
    while (i < t.size()) {
      const char c = t[i];
      if (c == '"') {
        i = skip_string(t, i);
        if (i == kNpos) return kNpos;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return kNpos;
  }
  // A number or a literal: up to the next delimiter.
  size_t b = i;
  while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' && t[i] != '\t' &&
         t[i] != '\n' && t[i] != '\r')
    ++i;
  return i > b ? i : kNpos;
}

struct Edit {
  size_t begin;
  size_t end;
  std::string text;
};

}  // namespace

std::optional<std::vector<RawMember>> scan_top_level(std::string_view t) {
  std::vector<RawMember> out;
  size_t i = skip_ws(t, 0);
  if (i >= t.size() || t[i] != '{') return std::nullopt;
  i = skip_ws(t, i + 1);
  if (i < t.size() && t[i] == '}')
    return skip_ws(t, i + 1) == t.size() ? std::optional(out) : std::nullopt;
  for (;;) {
    if (i >= t.size() || t[i] != '"') return std::nullopt;
    RawMember m;
    m.begin = i;
    size_t ke = skip_string(t, i);
    if (ke == kNpos) return std::nullopt;
    m.key = t.substr(i + 1, ke - i - 2);
    i = skip_ws(t, ke);
    if (i >= t.size() || t[i] != ':') return std::nullopt;
    m.value_begin = skip_ws(t, i + 1);
    m.value_end = skip_value(t, m.value_begin);
    if (m.value_end == kNpos) return std::nullopt;
    out.push_back(m);
    i = skip_ws(t, m.value_end);
    if (i >= t.size()) return std::nullopt;
    if (t[i] == '}') return skip_ws(t, i + 1) == t.size() ? std::optional(out) : std::nullopt;
    if (t[i] != ',') return std::nullopt;
    i = skip_ws(t, i + 1);
  }
}

std::optional<std::string> rewrite_same_format(std::string_view body, std::string_view model,
                                               bool force_include_usage) {
  auto members = scan_top_level(body);
  if (!members) return std::nullopt;
  const RawMember* model_m = nullptr;
  const RawMember* options_m = nullptr;
  for (const auto& m : *members) {
    // An escaped key could spell `model` in a way a byte compare misses.
    if (m.key.find('\\') != std::string_view::npos) return std::nullopt;
    const RawMember** slot = m.key == "model"            ? &model_m
                             : m.key == "stream_options" ? &options_m
                                                         : nullptr;
    if (!slot) continue;
    if (*slot) return std::nullopt;  // duplicated: which one the provider reads is its business
    *slot = &m;
  }
  if (!model_m) return std::nullopt;

  std::vector<Edit> edits;
  edits.push_back({model_m->value_begin, model_m->value_end,
                   json::serialize(json::value(json::string(model)))});
  if (force_include_usage) {
    if (!options_m) {
      // Before the first member, so no comma bookkeeping at the end of the object.
      const size_t at = (*members)[0].begin;
      edits.push_back({at, at, R"("stream_options":{"include_usage":true},)"});
    } else {
      std::string_view raw =
          body.substr(options_m->value_begin, options_m->value_end - options_m->value_begin);
      boost::system::error_code ec;
      json::value v = parse_json(raw, ec);
      if (ec) return std::nullopt;
      const json::value* iu = v.is_object() ? v.as_object().if_contains("include_usage") : nullptr;
      if (!iu || !iu->is_bool() || !iu->as_bool()) {
        json::object o = v.is_object() ? v.as_object() : json::object{};
        o["include_usage"] = true;
        edits.push_back({options_m->value_begin, options_m->value_end, json::serialize(o)});
      }
    }
  }
  std::sort(edits.begin(), edits.end(),
            [](const Edit& a, const Edit& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(body.size() + 64);
  size_t pos = 0;
  for (const auto& e : edits) {
    out.append(body.substr(pos, e.begin - pos));
    out += e.text;
    pos = e.end;
  }
  out.append(body.substr(pos));
  return out;
}

}  // namespace gatehouse::ai
