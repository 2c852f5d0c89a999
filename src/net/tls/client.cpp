#include "net/tls/client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/error.hpp>
#include <filesystem>

#include "net/tls/cert_info.hpp"

namespace gatehouse::net::tls {

namespace {

Error ctx_error(const config::UpstreamTlsConfig& cfg, std::string field, std::string message) {
  Error e = make_error("invalid_tls", std::move(message), std::move(field), 0, ErrorSide::kConfig);
  e.file = cfg.pos.file;
  e.line = cfg.pos.line;
  e.column = cfg.pos.column;
  return e;
}

bool readable(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

}  // namespace

std::string upstream_tls_key(const config::UpstreamTlsConfig& t) {
  return std::string(t.enabled ? "1" : "0") + (t.verify ? "1" : "0") + '\n' + t.sni + '\n' +
         t.ca_file + '\n' + t.client_cert + '\n' + t.client_key;
}

Result<std::shared_ptr<asio::ssl::context>> make_upstream_context(
    const config::UpstreamTlsConfig& cfg, const std::string& field) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* raw = ctx->native_handle();
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(raw, SSL_MODE_RELEASE_BUFFERS);
  static const unsigned char kAlpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(raw, kAlpn, sizeof kAlpn - 1);
  boost::system::error_code ec;
  ERR_clear_error();
  if (cfg.verify) {
    if (cfg.ca_file.empty()) {
      ctx->set_default_verify_paths(ec);
    } else {
      if (!readable(cfg.ca_file))
        return ctx_error(cfg, field + ".ca_file", "cannot read CA file '" + cfg.ca_file + "'");
      ctx->load_verify_file(cfg.ca_file, ec);
      if (ec)
        return ctx_error(cfg, field + ".ca_file",
                         "'" + cfg.ca_file + "' holds no PEM CA certificate: " + ec.message());
    }
    ctx->set_verify_mode(asio::ssl::verify_peer);
  } else {
    ctx->set_verify_mode(asio::ssl::verify_none);
  }
  if (!cfg.client_cert.empty()) {
    if (!readable(cfg.client_cert))
      return ctx_error(cfg, field + ".client_cert",
                       "cannot read certificate file '" + cfg.client_cert + "'");
    if (!readable(cfg.client_key))
      return ctx_error(cfg, field + ".client_key", "cannot read key file '" + cfg.client_key + "'");
    ctx->use_certificate_chain_file(cfg.client_cert, ec);
    if (ec)
      return ctx_error(cfg, field + ".client_cert",
                       "'" + cfg.client_cert + "' is not a PEM certificate: " + ec.message());
    ctx->use_private_key_file(cfg.client_key, asio::ssl::context::pem, ec);
    // OpenSSL checks the pair while loading the key: a valid key of another
    // certificate is a mismatch, not "not a key".
    if (ec && ec.category() == asio::error::get_ssl_category() &&
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH)
      return ctx_error(cfg, field + ".client_key",
                       "'" + cfg.client_key + "' does not match '" + cfg.client_cert + "'");
    if (ec)
      return ctx_error(cfg, field + ".client_key",
                       "'" + cfg.client_key + "' is not a PEM private key: " + ec.message());
    if (SSL_CTX_check_private_key(raw) != 1)
      return ctx_error(cfg, field + ".client_key",
                       "'" + cfg.client_key + "' does not match '" + cfg.client_cert + "'");
  }
  // Upstream sessions are resumed from a per-connection cache-less context:
  // pooled keep-alive connections make resumption rare enough.
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_OFF);
  return ctx;
}

bool prepare_client_ssl(SSL* ssl, const std::string& name, bool verify) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(name, ec);  // only: is it an IP literal?
  if (ec && !name.empty()) {
    if (SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) return false;
  }
  if (!verify || name.empty()) return true;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (!ec) {
    return X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) == 1;
  }
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size()) == 1;
}

}  // namespace gatehouse::net::tls
