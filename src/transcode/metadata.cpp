#include "transcode/metadata.hpp"

#include "common/strings.hpp"

namespace gatehouse::transcode {

bool is_forwarded_metadata(std::string_view key) {
  if (key.empty() || key.front() == ':') return false;
  // gRPC reserves grpc-*: grpc-status, grpc-message and
  // grpc-status-details-bin are the JSON error body, the encodings are the
  // hop's own.
  if (key.size() >= 5 && iequals(key.substr(0, 5), "grpc-")) return false;
  static constexpr std::string_view kSkip[] = {
      "content-type",      "content-length", "connection", "keep-alive", "proxy-connection",
      "transfer-encoding", "upgrade",        "te",         "trailer",    "host"};
  for (auto s : kSkip)
    if (iequals(key, s)) return false;
  for (char c : key)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return false;
  return true;
}

bool valid_field_value(std::string_view v) {
  for (unsigned char c : v)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  return true;
}

}  // namespace gatehouse::transcode
