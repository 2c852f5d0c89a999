// Checking a certificate and its private key before they are served: one set
// of checks and messages for files, inline PEM in the config and
// certificates in the store (whose admin API also shows the summary).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace gatehouse::net::tls {

struct CertificateSummary {
  std::string subject;             // RFC 2253
  std::string issuer;              // RFC 2253
  std::vector<std::string> names;  // what SNI selects it for: SAN DNS, else the subject CN
  std::vector<std::string> san_dns;
  std::vector<std::string> san_ip;  // IP addresses in its subjectAltName, as text
  int64_t not_before = 0;           // Unix seconds
  int64_t not_after = 0;
  std::string fingerprint_sha256;  // lower-case hex of the leaf's DER
  size_t chain = 0;                // certificates after the leaf
};

// Parses `cert_pem` (the leaf, then its chain) and `key_pem` and checks that
// the key belongs to the leaf. Errors have field "cert" or "key" (the caller
// prefixes its own path) and codes invalid_certificate, invalid_private_key
// or key_mismatch. Encrypted keys are refused (nothing could type a
// passphrase), never prompted for.
Result<CertificateSummary> check_pem_pair(std::string_view cert_pem, std::string_view key_pem);

// The leaf alone (no key): for showing a certificate.
Result<CertificateSummary> summarize_certificate(std::string_view cert_pem);

// "2026-11-29T19:00:00Z".
std::string rfc3339(int64_t unix_seconds);

// "" when `now` is inside [not_before, not_after]; else why not ("expired on
// 2026-...", "not valid before ...").
std::string validity_problem(const CertificateSummary& s, int64_t now);

}  // namespace gatehouse::net::tls
