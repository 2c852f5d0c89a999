// The AWS SDKs' default credential chain, walked once per fetch: the
// environment, the shared files, the container credentials endpoint, then
// EC2 instance metadata (IMDSv2). Fetches use net/http_client with short
// timeouts (a machine that is not on EC2 costs one connect timeout). Error
// messages name each source and why it gave nothing; never a key.
#include <boost/asio/ip/address.hpp>
#include <cstdlib>
#include <fstream>

#include "ai/providers/aws_credentials.hpp"
#include "common/strings.hpp"
#include "config/aws_profile.hpp"
#include "config/loader.hpp"
#include "net/http_client.hpp"

namespace gatehouse::ai::aws {
namespace {

constexpr int64_t kContainerTimeoutMs = 2'000;
constexpr int64_t kImdsTimeoutMs = 1'000;  // the SDKs' default
constexpr std::string_view kContainerHost = "http://169.254.170.2";
constexpr std::string_view kImdsEndpoint = "http://169.254.169.254";
constexpr std::string_view kImdsTokenTtl = "21600";  // six hours, the SDKs' value
constexpr size_t kMaxTokenFile = 16 * 1024;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

Error auth_error(std::string message) {
  return make_error("ai_provider_auth", std::move(message), {}, 502, ErrorSide::kUpstream);
}

// A header value we send must not carry line breaks (a token file with a
// trailing newline is trimmed; one in the middle is refused).
bool header_safe(std::string_view v) {
  for (unsigned char c : v)
    if (c == '\r' || c == '\n' || c == 0) return false;
  return true;
}

// An endpoint's error, short: status and the start of what it said.
std::string answer_error(const net::HttpClientResponse& r) {
  std::string body = r.body.substr(0, 160);
  for (char& c : body)
    if (c == '\n' || c == '\r') c = ' ';
  return "HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
}

bool allowed_http_host(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto a = asio::ip::make_address(host, ec);
  if (ec) return false;  // a DNS name: only https may use one
  if (a.is_loopback()) return true;
  const std::string s = a.to_string();
  return s == "169.254.170.2" || s == "169.254.170.23" || s == "fd00:ec2::23";
}

// Environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and
// AWS_SESSION_TOKEN). Returns why not in `why` when absent.
std::optional<Credentials> from_env(std::string& why) {
  std::string id = env("AWS_ACCESS_KEY_ID"), secret = env("AWS_SECRET_ACCESS_KEY");
  if (id.empty() && secret.empty()) {
    why = "environment: AWS_ACCESS_KEY_ID is not set";
    return std::nullopt;
  }
  if (id.empty() || secret.empty()) {
    why = std::string("environment: ") +
          (id.empty() ? "AWS_SECRET_ACCESS_KEY is set without AWS_ACCESS_KEY_ID"
                      : "AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY");
    return std::nullopt;
  }
  Credentials c;
  c.keys = {std::move(id), std::move(secret), env("AWS_SESSION_TOKEN")};
  c.source = "environment";
  return c;
}

// Shared files. A file that does not parse is an error (the SDKs stop there
// too); a profile without keys is `why`.
Result<std::optional<Credentials>> from_files(const std::string& profile, std::string& why) {
  const std::string cred_path = config::aws::credentials_file_path();
  const std::string conf_path = config::aws::config_file_path();
  auto creds = config::aws::read_shared_file(cred_path);
  if (!creds) return auth_error(creds.error().message);
  auto conf = config::aws::read_shared_file(conf_path);
  if (!conf) return auth_error(conf.error().message);
  auto p = config::aws::find_profile(creds->sections, conf->sections, profile);
  const std::string name = "profile \"" + profile + "\"";
  if (!p.found) {
    why = "shared files: no " + name + " in " + cred_path + (creds->found ? "" : " (absent)") +
          " or " + conf_path + (conf->found ? "" : " (absent)");
    return std::optional<Credentials>();
  }
  if (!p.access_key_id.empty() && !p.secret_access_key.empty()) {
    Credentials c;
    c.keys = {std::move(p.access_key_id), std::move(p.secret_access_key),
              std::move(p.session_token)};
    c.source = name;
    return std::optional<Credentials>(std::move(c));
  }
  if (!p.access_key_id.empty() || !p.secret_access_key.empty())
    return auth_error(name + " has " +
                      (p.access_key_id.empty()
                           ? "aws_secret_access_key without aws_access_key_id"
                           : "aws_access_key_id without aws_secret_access_key"));
  why = "shared files: " + name + " has no aws_access_key_id" +
        (p.unsupported.empty()
             ? std::string()
             : " (it uses " + p.unsupported + ", which Gatehouse does not support)");
  return std::optional<Credentials>();
}

awaitable<Result<std::optional<Credentials>>> from_container(
    std::shared_ptr<asio::ssl::context> tls, std::string& why) {
  auto ep = container_endpoint();
  if (!ep) co_return ep.error();
  if (ep->url.empty()) {
    why = "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set";
    co_return std::optional<Credentials>();
  }
  net::HttpClientRequest req;
  req.url = ep->url;
  req.timeout_ms = kContainerTimeoutMs;
  req.max_body = 64 * 1024;
  if (!ep->authorization.empty()) req.headers.emplace_back("Authorization", ep->authorization);
  auto r = co_await net::http_call(req, tls);
  if (!r) {
    why = "container: " + r.error().message;
    co_return std::optional<Credentials>();
  }
  if (r->status != 200) {
    why = "container: " + ep->url + " answered " + answer_error(*r);
    co_return std::optional<Credentials>();
  }
  auto c = parse_credentials_json(r->body, "container credentials");
  if (!c) co_return c.error();
  co_return std::optional<Credentials>(std::move(c.value()));
}

awaitable<Result<std::optional<Credentials>>> from_imds(std::string& why) {
  if (iequals(env("AWS_EC2_METADATA_DISABLED"), "true")) {
    why = "instance metadata: AWS_EC2_METADATA_DISABLED=true";
    co_return std::optional<Credentials>();
  }
  std::string base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (base.empty()) base = kImdsEndpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (auto ok = net::check_http_url(base); !ok || base.rfind("http://", 0) != 0) {
    why = "instance metadata: AWS_EC2_METADATA_SERVICE_ENDPOINT is not an http:// URL";
    co_return std::optional<Credentials>();
  }
  // Built here and awaited by the caller: http_call keeps a reference to it.
  auto make = [&](std::string method, std::string path,
                  std::vector<std::pair<std::string, std::string>> headers) {
    net::HttpClientRequest req;
    req.method = std::move(method);
    req.url = base + path;
    req.headers = std::move(headers);
    req.timeout_ms = kImdsTimeoutMs;
    req.max_body = 64 * 1024;
    return req;
  };
  // IMDSv2: a session token first (PUT), then every read carries it.
  const auto tok_req = make("PUT", "/latest/api/token",
                            {{"X-aws-ec2-metadata-token-ttl-seconds", std::string(kImdsTokenTtl)}});
  auto tok = co_await net::http_call(tok_req, nullptr);
  if (!tok) {
    why = "instance metadata: " + tok.error().message;
    co_return std::optional<Credentials>();
  }
  if (tok->status != 200 || tok->body.empty() || !header_safe(tok->body)) {
    why = "instance metadata: PUT /latest/api/token answered " + answer_error(*tok);
    co_return std::optional<Credentials>();
  }
  const std::pair<std::string, std::string> auth{"X-aws-ec2-metadata-token", tok->body};
  constexpr std::string_view kCreds = "/latest/meta-data/iam/security-credentials/";
  const auto list_req = make("GET", std::string(kCreds), {auth});
  auto list = co_await net::http_call(list_req, nullptr);
  if (!list) {
    why = "instance metadata: " + list.error().message;
    co_return std::optional<Credentials>();
  }
  if (list->status == 404) {
    why = "instance metadata: no IAM role is attached to this instance";
    co_return std::optional<Credentials>();
  }
  std::string_view role = trim_ows(std::string_view(list->body).substr(0, list->body.find('\n')));
  if (!role.empty() && role.back() == '\r') role.remove_suffix(1);
  if (list->status != 200 || role.empty() || role.find('/') != std::string_view::npos) {
    why = "instance metadata: GET " + std::string(kCreds) + " answered " + answer_error(*list);
    co_return std::optional<Credentials>();
  }
  const std::string role_name(role);
  const auto got_req = make("GET", std::string(kCreds) + role_name, {auth});
  auto got = co_await net::http_call(got_req, nullptr);
  if (!got) {
    why = "instance metadata: " + got.error().message;
    co_return std::optional<Credentials>();
  }
  if (got->status != 200) {
    why = "instance metadata: role " + role_name + " answered " + answer_error(*got);
    co_return std::optional<Credentials>();
  }
  auto c = parse_credentials_json(got->body, "instance metadata (role " + role_name + ")");
  if (!c) co_return c.error();
  co_return std::optional<Credentials>(std::move(c.value()));
}

}  // namespace

Result<ContainerEndpoint> container_endpoint() {
  ContainerEndpoint ep;
  if (std::string rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); !rel.empty()) {
    if (rel.front() != '/' || !header_safe(rel))
      return auth_error("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path starting with '/'");
    ep.url = std::string(kContainerHost) + rel;
  } else if (std::string full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI"); !full.empty()) {
    config::HttpUrl u;
    std::string why;
    if (!config::parse_http_url(full, u, why))
      return auth_error("AWS_CONTAINER_CREDENTIALS_FULL_URI: " + why);
    if (u.scheme == "http" && !allowed_http_host(u.host))
      return auth_error(
          "AWS_CONTAINER_CREDENTIALS_FULL_URI: an http:// endpoint must be a loopback address, "
          "169.254.170.2, 169.254.170.23 or fd00:ec2::23 (use https:// for any other host)");
    ep.url = full;
  } else {
    return ep;
  }
  // The token file wins over the variable (EKS Pod Identity rotates the file).
  if (std::string file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); !file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
      return auth_error("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + file + " cannot be read");
    std::string token(kMaxTokenFile + 1, '\0');
    in.read(token.data(), static_cast<std::streamsize>(token.size()));
    token.resize(static_cast<size_t>(in.gcount()));
    if (token.size() > kMaxTokenFile)
      return auth_error("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + file +
                        " is larger than 16 KiB");
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
      token.pop_back();
    ep.authorization = std::move(token);
  } else {
    ep.authorization = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (!header_safe(ep.authorization))
    return auth_error("the container authorization token holds a line break");
  return ep;
}

awaitable<Result<Credentials>> resolve_chain(std::string profile,
                                             std::shared_ptr<asio::ssl::context> tls) {
  std::vector<std::string> tried;
  std::string why;
  const bool named = !profile.empty();
  if (!named) {
    if (auto c = from_env(why)) co_return std::move(*c);
    tried.push_back(why);
  }
  auto files = from_files(config::aws::profile_name(profile), why);
  if (!files) co_return files.error();
  if (*files) co_return std::move(**files);
  if (named) co_return auth_error("aws.profile " + profile + ": " + why);
  tried.push_back(why);
  auto container = co_await from_container(tls, why);
  if (!container) co_return container.error();
  if (*container) co_return std::move(**container);
  tried.push_back(why);
  auto imds = co_await from_imds(why);
  if (!imds) co_return imds.error();
  if (*imds) co_return std::move(**imds);
  tried.push_back(why);
  std::string msg = "no AWS credentials found: ";
  for (size_t i = 0; i < tried.size(); ++i) msg += (i ? "; " : "") + tried[i];
  co_return auth_error(std::move(msg));
}

}  // namespace gatehouse::ai::aws
