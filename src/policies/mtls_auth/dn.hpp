// Distinguished names as written in config ("CN=alice, O=Acme") and as read
// from certificates (RFC 2253, "CN=alice,O=Acme") compared by meaning:
// attribute types case-insensitive, spaces around separators ignored, and
// RDN order ignored (openssl -subj "/O=Acme/CN=alice" prints the reverse of
// what people type).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::policy::mtls {

// The canonical form, or nullopt when `dn` is not a list of type=value
// pairs (an empty type, a missing '=', a dangling escape).
std::optional<std::string> canonical_dn(std::string_view dn);

// "sha256:AB:CD..." / "ab cd ..." / "abcd..." -> 64 lower-case hex digits,
// or nullopt when it is not a SHA-256 digest.
std::optional<std::string> canonical_fingerprint(std::string_view fp);

}  // namespace gatehouse::policy::mtls
