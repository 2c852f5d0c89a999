#include "proxy/h2_fields.hpp"

#include "common/strings.hpp"

namespace gatehouse::proxy {

bool connection_specific(std::string_view n) {
  return iequals(n, "connection") || iequals(n, "keep-alive") || iequals(n, "proxy-connection") ||
         iequals(n, "transfer-encoding") || iequals(n, "upgrade") || iequals(n, "te") ||
         iequals(n, "host");
}

std::vector<H2Field> to_h2_fields(std::string_view h1, std::string_view scheme, bool te_trailers,
                                  const std::string& grpc_timeout) {
  std::vector<H2Field> out;
  size_t eol = h1.find("\r\n");
  std::string_view line = h1.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  out.push_back({":method", std::string(line.substr(0, sp1))});
  out.push_back({":scheme", std::string(scheme)});
  out.push_back({":authority", ""});
  out.push_back({":path", std::string(line.substr(sp1 + 1, sp2 - sp1 - 1))});
  h1.remove_prefix(eol + 2);
  while (!h1.empty()) {
    eol = h1.find("\r\n");
    line = h1.substr(0, eol);
    h1.remove_prefix(eol + 2);
    if (line.empty()) break;
    size_t colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim_ows(line.substr(colon + 1));
    if (iequals(name, "host")) {
      out[2].value = std::string(value);
      continue;
    }
    if (connection_specific(name)) continue;
    if (!grpc_timeout.empty() && iequals(name, "grpc-timeout")) continue;
    out.push_back({to_lower(name), std::string(value)});
  }
  if (te_trailers) out.push_back({"te", "trailers"});
  if (!grpc_timeout.empty()) out.push_back({"grpc-timeout", grpc_timeout});
  return out;
}

std::vector<H2Field> to_h2_trailers(const std::vector<http1::Header>& in) {
  std::vector<H2Field> out;
  for (const auto& h : in)
    if (!connection_specific(h.name)) out.push_back({to_lower(h.name), h.value});
  return out;
}

std::string_view find_field(const std::vector<H2Field>& fields, std::string_view name) {
  for (const auto& f : fields)
    if (f.name == name) return f.value;
  return {};
}

}  // namespace gatehouse::proxy
