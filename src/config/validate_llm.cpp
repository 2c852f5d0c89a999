// Checks of the llm: section (providers, models) and of AI routes.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>
#include <string>

#include <openssl/x509_vfy.h>

#include "config/loader.hpp"
#include "config/loader_reader.hpp"

namespace gatehouse::config {

bool parse_http_url(std::string_view url, HttpUrl& out, std::string& why) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    why = "expected an http:// or https:// URL";
    return false;
  }
  out.scheme = std::string(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") {
    why = "unsupported scheme \"" + out.scheme + "\"; expected http or https";
    return false;
  }
  std::string_view rest = url.substr(sep + 3);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    why = "credentials in the URL are not supported; use api_key or headers";
    return false;
  }
  if (path.find_first_of("?#") != std::string_view::npos) {
    why = "a base_url has no query or fragment";
    return false;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.prefix = std::string(path);
  bool has_port = !authority.empty() &&
                  (authority.back() != ']' && authority.find(':') != std::string_view::npos);
  if (!has_port) {
    std::string with_port(authority);
    with_port += out.scheme == "https" ? ":443" : ":80";
    return split_host_port(with_port, out.host, out.port, why);
  }
  if (!split_host_port(authority, out.host, out.port, why)) return false;
  if (out.port == 0) {
    why = "port 0 is not a valid provider port";
    return false;
  }
  return true;
}

namespace {

constexpr auto& idx = detail::index_field;  // "f" + 2 -> "f[2]"

// True when the file holds at least one PEM certificate OpenSSL accepts.
bool loads_certificates(const std::string& path) {
  X509_STORE* st = X509_STORE_new();
  bool ok = st && X509_STORE_load_file(st, path.c_str()) == 1;
  X509_STORE_free(st);
  return ok;
}

using detail::in_quotes;

class LlmValidator {
 public:
  LlmValidator(const FieldPositions& positions, std::vector<ConfigError>& errors)
      : positions_(positions), errors_(errors) {}

  void run(const Config& cfg) {
    const auto& llm = cfg.llm;
    std::map<std::string, std::string> provider_first;
    std::vector<std::string> providers;
    for (size_t i = 0; i < llm.providers.size(); ++i) {
      const auto& p = llm.providers[i];
      std::string f = idx("llm.providers", i);
      unique("provider", p.name, p.pos, f, provider_first);
      providers.push_back(p.name);
      check_provider(p, f);
    }
    // Model names and aliases share one namespace: a client sends either.
    std::map<std::string, std::string> model_first;
    std::vector<std::string> models;
    for (size_t i = 0; i < llm.models.size(); ++i) {
      const auto& m = llm.models[i];
      std::string f = idx("llm.models", i);
      unique("model", m.name, m.pos, f, model_first);
      for (size_t a = 0; a < m.aliases.size(); ++a)
        unique_name("model name or alias", m.aliases[a], m.pos, idx(f + ".aliases", a),
                    model_first);
      models.push_back(m.name);
    }
    for (size_t i = 0; i < llm.models.size(); ++i)
      check_model(llm.models[i], idx("llm.models", i), providers, models);
    check_prices(llm, providers);
    std::vector<std::string> names;
    for (const auto& [n, _] : model_first) names.push_back(n);
    for (size_t i = 0; i < cfg.routes.size(); ++i) {
      const auto& r = cfg.routes[i];
      if (!r.llm) continue;
      std::string f = idx("routes", i) + ".llm";
      if (r.llm->models.empty())
        error(r.pos, f + ".models", "missing_field", "an llm route needs at least one model");
      for (size_t j = 0; j < r.llm->models.size(); ++j) {
        const auto& n = r.llm->models[j];
        if (!model_first.count(n))
          error(r.pos, idx(f + ".models", j), "unknown_model",
                "unknown model " + in_quotes(n) + did_you_mean(n, names));
      }
      if (r.llm->max_body == 0)
        error(r.pos, f + ".max_body", "invalid_value", "must be at least 1 byte");
    }
    for (size_t i = 0; i < cfg.consumers.size(); ++i) {
      const auto& c = cfg.consumers[i];
      if (!c.llm_models) continue;
      std::string f = idx("consumers", i) + ".llm.models";
      for (size_t j = 0; j < c.llm_models->size(); ++j) {
        const auto& n = (*c.llm_models)[j];
        if (!model_first.count(n))
          error(c.pos, idx(f, j), "unknown_model",
                "unknown model " + in_quotes(n) + did_you_mean(n, names));
      }
    }
  }

 private:

  SourcePos locate(const std::string& field, const SourcePos& fallback) const {
    return detail::locate_field(positions_, field, fallback);
  }

  void error(const SourcePos& fallback, const std::string& field, std::string code,
             std::string message) {
    errors_.push_back(
        ConfigError{locate(field, fallback), field, std::move(code), std::move(message)});
  }

  void unique(const char* what, const std::string& name, const SourcePos& at, const std::string& f,
              std::map<std::string, std::string>& first) {
    if (name.empty()) {
      error(at, f + ".name", "missing_field", std::string("a ") + what + " needs a name");
      return;
    }
    unique_name(what, name, at, f + ".name", first);
  }

  void unique_name(const char* what, const std::string& name, const SourcePos& at,
                   const std::string& f, std::map<std::string, std::string>& first) {
    auto [it, fresh] = first.emplace(name, f);
    if (!fresh)
      error(at, f, "duplicate_name",
            std::string("duplicate ") + what + " " + in_quotes(name) + " (first at " + it->second +
                ")");
  }

  // Prices: a known provider (or none), a model, amounts that are money;
  // one row per (provider, model), so the table reads one way.
  void check_prices(const LlmConfig& llm, const std::vector<std::string>& providers) {
    std::map<std::string, std::string> first;
    for (size_t i = 0; i < llm.prices.size(); ++i) {
      const auto& p = llm.prices[i];
      std::string f = idx("llm.prices", i);
      if (p.model.empty()) error(p.pos, f + ".model", "missing_field", "a price needs a model");
      if (!p.provider.empty() &&
          std::find(providers.begin(), providers.end(), p.provider) == providers.end())
        error(p.pos, f + ".provider", "unknown_provider",
              "unknown provider " + in_quotes(p.provider) + did_you_mean(p.provider, providers));
      const std::pair<const char*, double> amounts[] = {{"input", p.input},
                                                        {"output", p.output},
                                                        {"cache_read", p.cache_read},
                                                        {"cache_write", p.cache_write},
                                                        {"reasoning", p.reasoning}};
      for (const auto& [name, v] : amounts) {
        bool optional = std::string_view(name) != "input" && std::string_view(name) != "output";
        if (!(v >= 0 || (optional && v == -1)) || v > 1e9)
          error(p.pos, f + "." + name, "invalid_value",
                "a price per million tokens is a number from 0 to 1e9");
      }
      unique_name("price for", p.provider + "/" + p.model, p.pos, f, first);
    }
    if (llm.currency.empty() || llm.currency.size() > 8 ||
        !std::all_of(llm.currency.begin(), llm.currency.end(),
                     [](unsigned char c) { return std::isupper(c) != 0; }))
      error({}, "llm.currency", "invalid_value", "a currency code such as \"USD\"");
  }

  void check_bedrock(const LlmProviderConfig& p, const std::string& f) {
    bool aws = !p.region.empty() || !p.aws_access_key_id.empty() ||
               !p.aws_secret_access_key.empty() || !p.aws_session_token.empty() ||
               !p.aws_profile.empty() || p.aws_chain;
    if (p.kind != LlmProviderKind::kBedrock) {
      if (aws)
        error(p.pos, f + (p.region.empty() ? ".aws" : ".region"), "invalid_value",
              "region and aws apply to kind bedrock");
      return;
    }
    // The region is part of the SigV4 scope and of the default host name.
    bool region_ok = !p.region.empty() && std::all_of(p.region.begin(), p.region.end(), [](unsigned char c) {
      return std::islower(c) || std::isdigit(c) || c == '-';
    });
    if (!region_ok)
      error(p.pos, f + ".region", p.region.empty() ? "missing_field" : "invalid_value",
            "a bedrock provider needs an AWS region such as \"us-east-1\" (region:, else "
            "AWS_REGION, AWS_DEFAULT_REGION or the AWS profile's region)");
    // With the chain the keys are found at run time (ai/providers/aws_credentials.hpp).
    if (!p.aws_chain && p.aws_access_key_id.empty())
      error(p.pos, f + ".aws.access_key_id", "missing_field",
            "a bedrock provider needs aws.access_key_id (e.g. \"${AWS_ACCESS_KEY_ID}\")");
    if (!p.aws_chain && p.aws_secret_access_key.empty())
      error(p.pos, f + ".aws.secret_access_key", "missing_field",
            "a bedrock provider needs aws.secret_access_key (e.g. \"${AWS_SECRET_ACCESS_KEY}\")");
    if (!p.api_key.empty())
      error(p.pos, f + ".api_key", "invalid_value",
            "a bedrock provider signs with aws credentials, not an api_key");
  }

  void check_provider(const LlmProviderConfig& p, const std::string& f) {
    if (p.kind == LlmProviderKind::kMock) {
      if (p.mock.latency_ms < 0)
        error(p.pos, f + ".mock.latency", "invalid_value", "cannot be negative");
      if (p.mock.tokens_per_second < 0)
        error(p.pos, f + ".mock.tokens_per_second", "invalid_value", "cannot be negative");
      return;
    }
    if (p.base_url.empty()) {
      // Bedrock's comes from its region, which check_bedrock reports.
      if (p.kind != LlmProviderKind::kBedrock)
        error(p.pos, f + ".base_url", "missing_field", "a provider needs a base_url");
    } else {
      HttpUrl u;
      std::string why;
      if (!parse_http_url(p.base_url, u, why)) {
        error(p.pos, f + ".base_url", "invalid_value", why);
      } else if (u.scheme == "https") {
        // Load the CA file now, so a bad one is a config error rather than a
        // failure at the first request.
        if (!p.ca_file.empty() && !loads_certificates(p.ca_file))
          error(p.pos, f + ".ca_file", "invalid_value",
                "cannot load CA certificates from " + in_quotes(p.ca_file));
      } else if (!p.ca_file.empty()) {
        error(p.pos, f + ".ca_file", "invalid_value", "ca_file applies to an https base_url");
      }
    }
    check_bedrock(p, f);
    if (p.api_key.empty() && p.kind != LlmProviderKind::kOpenAiCompatible &&
        p.kind != LlmProviderKind::kOllama && p.kind != LlmProviderKind::kBedrock)
      error(p.pos, f + ".api_key", "missing_field",
            "this provider kind needs an api_key (e.g. \"${OPENAI_API_KEY}\")");
    if (p.kind != LlmProviderKind::kAzureOpenAi) {
      if (!p.api_version.empty())
        error(p.pos, f + ".api_version", "invalid_value", "api_version applies to kind azure-openai");
      if (!p.deployments.empty())
        error(p.pos, f + ".deployments", "invalid_value", "deployments apply to kind azure-openai");
    } else {
      // Both go into the request path: keep them to URL-safe characters.
      auto url_safe = [](const std::string& v) {
        return !v.empty() && std::all_of(v.begin(), v.end(), [](unsigned char c) {
          return std::isalnum(c) || c == '-' || c == '_' || c == '.';
        });
      };
      if (!p.api_version.empty() && !url_safe(p.api_version))
        error(p.pos, f + ".api_version", "invalid_value",
              "not an api-version (e.g. \"2024-10-21\" or \"v1\")");
      for (const auto& [model, dep] : p.deployments)
        if (!url_safe(dep))
          error(p.pos, f + ".deployments." + model, "invalid_value",
                "a deployment name has letters, digits, '-', '_' and '.' only");
    }
    for (size_t i = 0; i < p.headers.size(); ++i) {
      const auto& [name, value] = p.headers[i];
      bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                                      std::string_view::npos;
      }) && value.find_first_of("\r\n") == std::string::npos;
      if (!ok) error(p.pos, f + ".headers." + name, "invalid_value", "not a valid header");
    }
    if (p.timeouts.connect_ms <= 0)
      error(p.pos, f + ".timeouts.connect", "invalid_value", "must be positive");
    if (p.timeouts.idle_ms <= 0)
      error(p.pos, f + ".timeouts.idle", "invalid_value", "must be positive");
    if (p.timeouts.request_ms < 0)
      error(p.pos, f + ".timeouts.request", "invalid_value", "cannot be negative");
  }

  void check_model(const LlmModelConfig& m, const std::string& f,
                   const std::vector<std::string>& providers,
                   const std::vector<std::string>& models) {
    if (m.targets.empty())
      error(m.pos, f + ".targets", "missing_field", "a model needs at least one target");
    uint64_t weights = 0;
    for (size_t i = 0; i < m.targets.size(); ++i) {
      const auto& t = m.targets[i];
      std::string tf = idx(f + ".targets", i);
      if (t.provider.empty())
        error(m.pos, tf + ".provider", "missing_field", "a target needs a provider");
      else if (std::find(providers.begin(), providers.end(), t.provider) == providers.end())
        error(m.pos, tf + ".provider", "unknown_provider",
              "unknown provider " + in_quotes(t.provider) + did_you_mean(t.provider, providers));
      if (t.model.empty())
        error(m.pos, tf + ".model", "missing_field", "a target needs the provider's model name");
      weights += t.weight;
    }
    if (!m.targets.empty() && weights == 0)
      error(m.pos, f + ".targets", "invalid_value", "at least one target needs a weight above 0");
    std::set<std::string> seen;
    for (size_t i = 0; i < m.fallbacks.size(); ++i) {
      const auto& fb = m.fallbacks[i];
      std::string ff = idx(f + ".fallbacks", i);
      if (fb == m.name)
        error(m.pos, ff, "invalid_value", "a model cannot fall back to itself");
      else if (std::find(models.begin(), models.end(), fb) == models.end())
        error(m.pos, ff, "unknown_model",
              "unknown model " + in_quotes(fb) + did_you_mean(fb, models));
      else if (!seen.insert(fb).second)
        error(m.pos, ff, "duplicate_value", in_quotes(fb) + " is listed twice");
    }
  }

  const FieldPositions& positions_;
  std::vector<ConfigError>& errors_;
};

}  // namespace

void validate_llm(const Config& cfg, const FieldPositions& positions,
                  std::vector<ConfigError>& errors) {
  LlmValidator(positions, errors).run(cfg);
}

}  // namespace gatehouse::config
