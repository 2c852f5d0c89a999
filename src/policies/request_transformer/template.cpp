#include "policies/request_transformer/template.hpp"

#include "common/strings.hpp"
#include "net/http1/parser.hpp"
#include "policies/query.hpp"

namespace gatehouse::policy {

namespace {

constexpr std::string_view kKnownVars =
    "consumer.name, route.name, request_id, client_ip, header.<name>, query.<name>, var.<name>";

Error template_error(std::string message) {
  return make_error("invalid_template", std::move(message), {}, 0, ErrorSide::kConfig);
}

}  // namespace

Result<Template> Template::compile(std::string_view text) {
  Template t;
  std::string literal;
  auto flush = [&] {
    if (literal.empty()) return;
    t.pieces_.push_back({Kind::kLiteral, std::move(literal)});
    literal.clear();
  };
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != '$') {
      literal += c;
      ++i;
      continue;
    }
    if (text.substr(i, 3) == "$$(") {
      literal += "$(";
      i += 3;
      continue;
    }
    if (text.substr(i, 2) != "$(") {
      literal += c;
      ++i;
      continue;
    }
    size_t close = text.find(')', i + 2);
    if (close == std::string_view::npos)
      return template_error("unterminated '$(' in '" + std::string(text) +
                            "' (write '$$(' for a literal '$(')");
    std::string_view var = trim_ows(text.substr(i + 2, close - i - 2));
    Piece p;
    auto with_name = [&](std::string_view prefix, Kind kind) {
      if (var.substr(0, prefix.size()) != prefix) return false;
      p.kind = kind;
      p.text = std::string(var.substr(prefix.size()));
      return true;
    };
    if (var == "consumer.name") {
      p.kind = Kind::kConsumerName;
    } else if (var == "route.name") {
      p.kind = Kind::kRouteName;
    } else if (var == "request_id") {
      p.kind = Kind::kRequestId;
    } else if (var == "client_ip") {
      p.kind = Kind::kClientIp;
    } else if (with_name("header.", Kind::kHeader) || with_name("query.", Kind::kQuery) ||
               with_name("var.", Kind::kVar)) {
      if (p.text.empty())
        return template_error("'$(" + std::string(var) + ")' needs a name after the dot");
      if (p.kind == Kind::kHeader) {
        for (char h : p.text)
          if (!http1::is_tchar(static_cast<unsigned char>(h)))
            return template_error("'" + p.text + "' in '$(" + std::string(var) +
                                  ")' is not a valid header name");
      }
    } else {
      return template_error("unknown template variable '$(" + std::string(var) +
                            ")'; known: " + std::string(kKnownVars));
    }
    flush();
    t.pieces_.push_back(std::move(p));
    t.has_vars_ = true;
    i = close + 1;
  }
  flush();
  return t;
}

std::string Template::literal_text() const {
  std::string out;
  for (const auto& p : pieces_)
    if (p.kind == Kind::kLiteral) out += p.text;
  return out;
}

bool Template::expand(const TemplateEnv& env, std::string& out) const {
  const RequestContext& ctx = *env.ctx;
  for (const auto& p : pieces_) {
    switch (p.kind) {
      case Kind::kLiteral:
        out += p.text;
        break;
      case Kind::kConsumerName:
        if (!ctx.consumer) return false;
        out += ctx.consumer->name;
        break;
      case Kind::kRouteName:
        out += ctx.route_name;
        break;
      case Kind::kRequestId:
        out += ctx.request_id;
        break;
      case Kind::kClientIp:
        out += ctx.client_ip;
        break;
      case Kind::kHeader: {
        const std::string* v = ctx.head ? ctx.head->find(p.text) : nullptr;
        if (!v) return false;
        out += *v;
        break;
      }
      case Kind::kQuery: {
        auto v = query_param(env.query, p.text);
        if (!v) return false;
        out += *v;
        break;
      }
      case Kind::kVar: {
        auto it = ctx.vars.find(p.text);
        if (it == ctx.vars.end()) return false;
        out += it->second;
        break;
      }
    }
  }
  return true;
}

void expand_values(const std::vector<ValueOp>& ops, const TemplateEnv& env,
                   std::vector<std::optional<std::string>>& out) {
  for (const auto& op : ops) {
    std::string v;
    if (op.value.expand(env, v))
      out.emplace_back(std::move(v));
    else
      out.emplace_back(std::nullopt);
  }
}

}  // namespace gatehouse::policy
