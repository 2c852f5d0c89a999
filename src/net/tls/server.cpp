#include "net/tls/server.hpp"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <mutex>
#include <sstream>

#include "common/log.hpp"
#include "net/tls/cert_info.hpp"
#include "net/tls/pem_check.hpp"

namespace gatehouse::net::tls {

namespace {

// TLS 1.2 suites: forward secret (ECDHE) and AEAD only. TLS 1.3 suites are
// OpenSSL's defaults (all AEAD).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Server-side session cache ids must be scoped; any constant works as long
// as every context shares it (a connection moved by SNI keeps resuming).
constexpr unsigned char kSessionIdContext[] = "gatehouse";

// Ticket keys: one set per process, so tickets survive certificate reloads
// (a new context would otherwise make every ticket unreadable). Not rotated
// while the process runs; restarts rotate them.
const unsigned char* ticket_keys() {
  static unsigned char keys[80];
  static std::once_flag once;
  std::call_once(once, [] {
    if (RAND_bytes(keys, sizeof keys) != 1) std::abort();  // no randomness: nothing is safe
  });
  return keys;
}

template <size_t N>
std::string alpn_wire(const std::string_view (&protocols)[N]) {
  std::string w;
  for (auto p : protocols) {
    w += static_cast<char>(p.size());
    w += p;
  }
  return w;
}

// `arg` is the wire-format list this context offers (one of the two below,
// static, so a context never outlives it).
const std::string& alpn_list(bool h2) {
  static const std::string with_h2 = alpn_wire(kServerAlpnH2);
  static const std::string without = alpn_wire(kServerAlpn);
  return h2 ? with_h2 : without;
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* arg) {
  const auto& wire = *static_cast<const std::string*>(arg);
  unsigned char* selected = nullptr;
  // Our order wins (the server's preference), so a client offering
  // "http/1.1,h2" still gets h2.
  if (SSL_select_next_proto(&selected, outlen, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size()), in,
                            inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;  // no common protocol: go on without ALPN
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return !in.bad();
}

// One entry's PEM text, wherever it came from, and how to name it in errors.
struct Entry {
  std::string cert, key;
  std::string prefix;        // "tls.certificates[2]"
  bool cert_inline = false;  // cert_pem rather than a file
  bool key_inline = false;
  std::string what;  // the entry's path, or "certificate 'api' from the store"
  std::string field(bool key_part) const {
    if (key_part) return prefix + (key_inline ? ".key_pem" : ".key");
    return prefix + (cert_inline ? ".cert_pem" : ".cert");
  }
};

Error tls_error(const config::SourcePos& pos, std::string field, std::string message);

Result<Entry> read_entry(const config::TlsCertificateConfig& c, size_t i) {
  Entry e;
  e.prefix = "tls.certificates[" + std::to_string(i) + "]";
  e.what = c.store_name.empty() ? e.prefix : "certificate '" + c.store_name + "' from the store";
  e.cert_inline = c.cert.empty();
  e.key_inline = c.key.empty();
  if (e.cert_inline) {
    e.cert = c.cert_pem;
  } else if (!read_file(c.cert, e.cert)) {
    return tls_error(c.pos, e.field(false), "cannot read certificate file '" + c.cert + "'");
  }
  if (e.key_inline) {
    e.key = c.key_pem;
  } else if (!read_file(c.key, e.key)) {
    return tls_error(c.pos, e.field(true), "cannot read private key file '" + c.key + "'");
  }
  return e;
}

Error tls_error(const config::SourcePos& pos, std::string field, std::string message) {
  Error e = make_error("invalid_tls", std::move(message), std::move(field), 0, ErrorSide::kConfig);
  e.file = pos.file;
  e.line = pos.line;
  e.column = pos.column;
  return e;
}

}  // namespace

int TlsServer::on_servername(SSL* ssl, int*, void* arg) {
  const auto* self = static_cast<const TlsServer*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;  // no SNI: the default certificate
  int i = self->names_.find(name);
  // Unknown names get the default certificate (as nginx does); the client
  // decides whether it trusts it.
  if (i > 0) SSL_set_SSL_CTX(ssl, self->contexts_[static_cast<size_t>(i)]->native_handle());
  return SSL_TLSEXT_ERR_OK;
}

Result<std::shared_ptr<const TlsServer>> TlsServer::build(
    const config::TlsConfig& cfg, const std::shared_ptr<const TlsServer>& previous,
    bool http2) {
  // Identity: every input byte, so a reload with changed files rebuilds.
  std::string identity;
  std::vector<Entry> entries;
  for (size_t i = 0; i < cfg.certificates.size(); ++i) {
    auto e = read_entry(cfg.certificates[i], i);
    if (!e) return e.error();
    identity += e->cert + '\0' + e->key + '\0';
    entries.push_back(std::move(e.value()));
  }
  std::string ca;
  if (cfg.client_auth.mode != config::ClientAuthMode::kNone) {
    if (!read_file(cfg.client_auth.ca_file, ca))
      return tls_error(cfg.pos, "tls.client_auth.ca_file",
                       "cannot read CA file '" + cfg.client_auth.ca_file + "'");
  }
  identity += ca + '\0' + std::to_string(static_cast<int>(cfg.min_version)) + ',' +
              std::to_string(static_cast<int>(cfg.client_auth.mode)) + ',' +
              std::to_string(cfg.client_auth.verify_depth) + ',' +
              std::to_string(cfg.handshake_timeout_ms) + ',' + (cfg.session_tickets ? "t" : "f") +
              ',' + std::to_string(cfg.session_timeout_ms) + (http2 ? ",h2" : "");
  if (previous && previous->identity_ == identity) return previous;

  auto srv = std::make_shared<TlsServer>();
  srv->identity_ = std::move(identity);
  srv->handshake_timeout_ms_ = cfg.handshake_timeout_ms;
  srv->verify_clients_ = cfg.client_auth.mode != config::ClientAuthMode::kNone;
  srv->offer_h2_ = http2;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& en = entries[i];
    // Our own checks first: precise messages, and no passphrase prompt for
    // an encrypted key (OpenSSL's default would read the terminal).
    auto summary = check_pem_pair(en.cert, en.key);
    if (!summary) {
      bool in_key = summary.error().field == "key";
      const auto& c = cfg.certificates[i];
      std::string msg = summary.error().message;
      // The file form keeps the wording users know; the others name the entry.
      if (summary.error().code == "key_mismatch" && !en.cert_inline && !en.key_inline)
        msg = "'" + c.key + "' does not match the certificate '" + c.cert + "'";
      else if (in_key ? !en.key_inline : !en.cert_inline)
        msg = "'" + (in_key ? c.key : c.cert) + "': " + msg;
      else if (!c.store_name.empty())
        msg = en.what + ": " + msg;
      // Inline text is pointed at where it is written; a file's problem at
      // its entry, as it always was.
      bool inline_part = in_key ? en.key_inline : en.cert_inline;
      return tls_error(!inline_part ? c.pos
                       : in_key     ? c.key_pos
                                    : c.cert_pos,
                       en.field(in_key), msg);
    }
    if (auto why = validity_problem(*summary, now); !why.empty())
      // Served anyway (clients decide, as nginx does): refusing would turn
      // one lapsed certificate into an outage of every name at the next
      // reload or restart.
      log::warn("certificate outside its validity period; still served",
                {log::f("field", en.field(false)), log::f("subject", summary->subject),
                 log::f("problem", why)});
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    SSL_CTX* raw = ctx->native_handle();
    ERR_clear_error();
    boost::system::error_code ec;
    ctx->use_certificate_chain(asio::buffer(en.cert), ec);
    if (!ec) ctx->use_private_key(asio::buffer(en.key), asio::ssl::context::pem, ec);
    if (ec || SSL_CTX_check_private_key(raw) != 1)  // checked above: only OpenSSL's own limits
      return tls_error(
          cfg.certificates[i].pos, en.field(false),
          en.what + ": refused by OpenSSL: " + (ec ? ec.message() : last_openssl_error()));
    X509* leaf = SSL_CTX_get0_certificate(raw);
    for (const auto& n : server_names(leaf)) srv->names_.add(n, i);

    SSL_CTX_set_min_proto_version(
        raw, cfg.min_version == config::TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 (cfg.session_tickets ? 0 : SSL_OP_NO_TICKET));
    SSL_CTX_set_cipher_list(raw, kTls12Ciphers);
    // Idle connections give their read/write buffers back.
    SSL_CTX_set_mode(raw, SSL_MODE_RELEASE_BUFFERS);
    // h2 needs TLS 1.2+, no renegotiation, no compression and none of the
    // RFC 9113 Appendix A suites: the settings above already guarantee all
    // four, so offering h2 changes nothing else.
    SSL_CTX_set_alpn_select_cb(raw, select_alpn,
                               const_cast<std::string*>(&alpn_list(http2)));
    SSL_CTX_set_session_id_context(raw, kSessionIdContext, sizeof kSessionIdContext - 1);
    SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(raw, 20'480);
    SSL_CTX_set_timeout(raw, static_cast<long>(cfg.session_timeout_ms / 1000));
    SSL_CTX_set_tlsext_ticket_keys(raw, const_cast<unsigned char*>(ticket_keys()), 80);
    if (srv->verify_clients_) {
      int mode = SSL_VERIFY_PEER;
      if (cfg.client_auth.mode == config::ClientAuthMode::kRequired)
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      SSL_CTX_set_verify(raw, mode, nullptr);
      SSL_CTX_set_verify_depth(raw, cfg.client_auth.verify_depth);
      ctx->add_certificate_authority(asio::buffer(ca), ec);
      if (!ec) {
        // Also name the CAs in the CertificateRequest, so clients with
        // several certificates pick the right one.
        BIO* bio = BIO_new_mem_buf(ca.data(), static_cast<int>(ca.size()));
        STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
        X509* x = nullptr;
        while ((x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) != nullptr) {
          sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(x)));
          X509_free(x);
        }
        ERR_clear_error();  // the loop ends on a "no start line" error
        BIO_free(bio);
        if (sk_X509_NAME_num(names) == 0) {
          sk_X509_NAME_free(names);
          ec = asio::error::invalid_argument;
        } else {
          SSL_CTX_set_client_CA_list(raw, names);
        }
      }
      if (ec)
        return tls_error(cfg.pos, "tls.client_auth.ca_file",
                         "'" + cfg.client_auth.ca_file + "' holds no PEM CA certificate");
    }
    srv->contexts_.push_back(std::move(ctx));
  }
  if (srv->contexts_.empty())
    return tls_error(cfg.pos, "tls.certificates", "no certificate configured");
  SSL_CTX* first = srv->contexts_.front()->native_handle();
  SSL_CTX_set_tlsext_servername_callback(first, on_servername);
  SSL_CTX_set_tlsext_servername_arg(first, srv.get());
  return std::shared_ptr<const TlsServer>(std::move(srv));
}

}  // namespace gatehouse::net::tls
