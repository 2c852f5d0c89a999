#include "config/load_tls.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace gatehouse::config {

void check_upstream_tls(const UpstreamTlsConfig& t, const std::string& f, const TlsErrorFn& error) {
  if (!t.enabled) return;
  if (t.client_cert.empty() != t.client_key.empty())
    error(t.pos, f + (t.client_cert.empty() ? ".client_cert" : ".client_key"), "missing_field",
          "client_cert and client_key go together");
  bool dns = t.sni.size() <= 253 && std::all_of(t.sni.begin(), t.sni.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
             });
  if (!dns) error(t.pos, f + ".sni", "invalid_value", "sni must be a DNS name");
}

namespace detail {

std::string config_relative(const std::string& config_file, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  auto dir = std::filesystem::path(config_file).parent_path();
  if (dir.empty() || config_file.find(':') != std::string::npos) return path;
  return (dir / path).lexically_normal().string();
}

void parse_upstream_tls(Reader& r, const Slot& s, UpstreamTlsConfig& t, bool with_enabled,
                        bool relative_to_file) {
  t.pos = s.pos;
  std::vector<std::string> keys = {"sni", "verify", "ca_file", "client_cert", "client_key"};
  if (with_enabled) keys.insert(keys.begin(), "enabled");
  Fields f(r, s, keys);
  t.enabled = true;  // writing a tls: section means TLS unless enabled: false
  if (with_enabled) f.read("enabled", t.enabled);
  f.read("sni", t.sni);
  f.read("verify", t.verify);
  f.read("ca_file", t.ca_file);
  f.read("client_cert", t.client_cert);
  f.read("client_key", t.client_key);
  if (relative_to_file)
    for (std::string* p : {&t.ca_file, &t.client_cert, &t.client_key})
      *p = config_relative(s.pos.file, *p);
}

}  // namespace detail

}  // namespace gatehouse::config
