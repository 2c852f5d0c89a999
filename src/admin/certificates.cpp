#include "admin/certificates.hpp"

#include <algorithm>
#include <boost/json/array.hpp>

#include "admin/config_bridge.hpp"
#include "net/tls/pem_check.hpp"

namespace gatehouse::admin {

namespace json = boost::json;
using store::Entity;

namespace {

// The sealed value names its place: a key copied into a provider secret
// (or the other way round) does not open.
constexpr std::string_view kKeyAad = "gatehouse/certificate/key";

// Shown by GET, accepted back and ignored so GET -> edit -> PUT works.
constexpr std::string_view kReadOnly[] = {"has_key",      "subject",   "issuer",
                                          "san_dns",      "san_ip",    "names",
                                          "not_before",   "not_after", "fingerprint_sha256",
                                          "chain_length", "status"};

Error bad(std::string field, std::string message, std::string code = "invalid_entity") {
  return make_error(std::move(code), std::move(message), std::move(field), 400,
                    ErrorSide::kDownstream);
}

bool is_sealed(const json::value& v) {
  if (!v.is_object()) return false;
  auto* s = v.get_object().if_contains("sealed");
  return s && s->is_string();
}

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

Result<std::string> unseal_key(const json::value& sealed, const secrets::Keyring& ring) {
  auto plain = secrets::unseal(ring, sealed.get_object().at("sealed").get_string(), kKeyAad);
  if (!plain) {
    Error e = plain.error();
    e.field = "key";
    e.status = 400;
    return e;
  }
  return std::move(*plain);
}

}  // namespace

Result<void> prepare_certificate(Entity& e, const Entity* existing, const secrets::Keyring& ring,
                                 int64_t now) {
  if (!e.body.is_object()) return bad("", "a certificate is a JSON object {name, cert, key}");
  if (e.name.empty()) return bad("name", "a certificate needs a name", "missing_field");
  auto& body = e.body.get_object();
  for (auto k : kReadOnly) body.erase(k);
  for (const auto& kv : body)
    if (kv.key() != "cert" && kv.key() != "key")
      return bad(std::string(kv.key()),
                 "unknown field \"" + std::string(kv.key()) + "\" (a certificate has cert and key)",
                 "unknown_field");
  auto* cert = body.if_contains("cert");
  if (!cert) return bad("cert", "the certificate is needed: its PEM text", "missing_field");
  if (!cert->is_string() || cert->get_string().empty())
    return bad("cert", "cert must be the certificate's PEM text (leaf first, then its chain)");

  const json::value* old = nullptr;
  if (existing && existing->body.is_object())
    if (auto* k = existing->body.get_object().if_contains("key"); k && is_sealed(*k)) old = k;
  std::string key_pem;
  bool keep = false;
  json::value* key = body.if_contains("key");
  if (!key || (key->is_string() && key->get_string() == kRedacted)) {
    if (!old) return bad("key", "the private key is needed: its PEM text", "missing_field");
    keep = true;
  } else if (key->is_object()) {
    // Only the stored value can come back (a merge patch that left it alone).
    if (!old || *old != *key)
      return bad("key", "a sealed key can only be kept as stored; send the key in PEM");
    keep = true;
  } else if (!key->is_string() || key->get_string().empty()) {
    return bad("key", "key must be the private key's PEM text");
  } else {
    key_pem = key->get_string();
  }
  if (keep) {
    auto plain = unseal_key(*old, ring);
    if (!plain) return plain.error();
    key_pem = std::move(*plain);
  }
  auto summary = net::tls::check_pem_pair(cert->get_string(), key_pem);
  if (!summary) {
    Error err = summary.error();
    if (keep && err.code == "key_mismatch")
      err.message = "the stored private key does not belong to this certificate; send its key too";
    return err;
  }
  if (now > summary->not_after)
    return bad("cert", "the certificate expired on " + net::tls::rfc3339(summary->not_after),
               "certificate_expired");
  if (now < summary->not_before)
    return bad("cert",
               "the certificate is not valid before " + net::tls::rfc3339(summary->not_before),
               "certificate_not_yet_valid");
  if (keep) {
    body["key"] = *old;
  } else {
    auto sealed = secrets::seal(ring, key_pem, kKeyAad);
    if (!sealed) {
      Error err = sealed.error();
      err.field = "key";
      if (err.status == 0) err.status = 400;
      return err;
    }
    body["key"] = json::object{{"sealed", *sealed}};
  }
  return Ok{};
}

void show_certificate(json::object& out, int64_t now) {
  out["has_key"] = out.contains("key");
  out.erase("key");
  auto* cert = out.if_contains("cert");
  if (!cert || !cert->is_string()) return;
  auto s = net::tls::summarize_certificate(cert->get_string());
  if (!s) return;
  out["subject"] = s->subject;
  out["issuer"] = s->issuer;
  out["san_dns"] = strings(s->san_dns);
  out["san_ip"] = strings(s->san_ip);
  out["names"] = strings(s->names);
  out["not_before"] = net::tls::rfc3339(s->not_before);
  out["not_after"] = net::tls::rfc3339(s->not_after);
  out["fingerprint_sha256"] = s->fingerprint_sha256;
  out["chain_length"] = s->chain;
  out["status"] = now > s->not_after ? "expired" : now < s->not_before ? "not_yet_valid" : "valid";
}

void drop_sealed_key(json::object& body) {
  if (auto* k = body.if_contains("key"); k && is_sealed(*k)) body.erase("key");
}

Result<config::TlsCertificateConfig> certificate_entry(const Entity& e,
                                                       const secrets::Keyring& ring) {
  config::TlsCertificateConfig c;
  c.store_name = e.name;
  const json::value* cert = e.body.is_object() ? e.body.get_object().if_contains("cert") : nullptr;
  const json::value* key = e.body.is_object() ? e.body.get_object().if_contains("key") : nullptr;
  if (!cert || !cert->is_string()) return bad("cert", "no certificate stored");
  if (!key || !is_sealed(*key)) return bad("key", "no sealed private key stored");
  auto plain = unseal_key(*key, ring);
  if (!plain) return plain.error();
  c.cert_pem = cert->get_string();
  c.key_pem = std::move(*plain);
  return c;
}

void certificate_key_ids(const std::vector<Entity>& entities, std::vector<std::string>& ids) {
  for (const auto& e : entities) {
    if (e.kind != kCertificateKind || !e.body.is_object()) continue;
    auto* k = e.body.get_object().if_contains("key");
    if (!k || !is_sealed(*k)) continue;
    std::string id = secrets::key_id_of(k->get_object().at("sealed").get_string());
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
}

Result<bool> reseal_certificate(Entity& e, const secrets::Keyring& ring) {
  if (e.kind != kCertificateKind || !e.body.is_object() || !ring.current()) return false;
  auto* k = e.body.get_object().if_contains("key");
  if (!k || !is_sealed(*k)) return false;
  if (secrets::key_id_of(k->get_object().at("sealed").get_string()) == ring.current()->id)
    return false;
  auto plain = unseal_key(*k, ring);
  if (!plain) return plain.error();
  auto sealed = secrets::seal(ring, *plain, kKeyAad);
  if (!sealed) return sealed.error();
  *k = json::object{{"sealed", *sealed}};
  return true;
}

void apply_server_settings(config::Config& cfg, const config::ServerConfig& server) {
  auto stored = std::move(cfg.server.tls.certificates);
  cfg.server = server;
  auto& list = cfg.server.tls.certificates;
  list.insert(list.end(), std::make_move_iterator(stored.begin()),
              std::make_move_iterator(stored.end()));
}

}  // namespace gatehouse::admin
