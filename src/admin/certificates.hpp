// Server certificates as store entities (`certificate`, /api/v1/certificates):
// the body is {cert, key} in PEM; the private key is kept sealed under the
// same key-encryption key as LLM provider secrets (secrets.hpp) and never
// read back. The bridge hands them to the proxy_tls listener after the
// config's own certificates (docs/tls.md, "Certificates in the store").
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "admin/secrets.hpp"
#include "common/result.hpp"
#include "config/entities.hpp"
#include "store/store.hpp"

namespace gatehouse::admin {

inline constexpr std::string_view kCertificateKind = "certificate";

// Before a write: checks the body ({cert, key}; the read-only fields GET
// adds are dropped), parses both, checks the key belongs to the certificate
// and that it is valid now, and seals the key. A key that is absent, or
// "<redacted>", or the stored sealed value, keeps the stored key (which must
// then belong to the new certificate). Errors are 400 with field "cert" or
// "key". `now` is Unix seconds.
Result<void> prepare_certificate(store::Entity& e, const store::Entity* existing,
                                 const secrets::Keyring& ring, int64_t now);

// For reading: the key is dropped (has_key says it is there) and the parsed
// certificate is shown: subject, issuer, san_dns, san_ip, names, not_before,
// not_after, fingerprint_sha256, chain_length, status.
void show_certificate(boost::json::object& out, int64_t now);

// Audit snapshots: a sealed key is removed entirely (not even its ciphertext).
void drop_sealed_key(boost::json::object& body);

// The listener's entry: PEM text with the key unsealed. Errors name "key".
Result<config::TlsCertificateConfig> certificate_entry(const store::Entity& e,
                                                       const secrets::Keyring& ring);

// Key ids the certificates' sealed keys name (for the start-up check).
void certificate_key_ids(const std::vector<store::Entity>& entities, std::vector<std::string>& ids);

// Re-seals the key under the ring's current key; true when it changed.
Result<bool> reseal_certificate(store::Entity& e, const secrets::Keyring& ring);

// Store mode: the node's server settings (--settings file) replace the
// built config's, keeping the stored certificates after the file's own.
void apply_server_settings(config::Config& cfg, const config::ServerConfig& server);

}  // namespace gatehouse::admin
