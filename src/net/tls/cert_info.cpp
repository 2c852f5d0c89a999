#include "net/tls/cert_info.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

namespace gatehouse::net::tls {

namespace {

std::string name_text(const X509_NAME* name) {
  if (!name) return {};
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return {};
  // RFC 2253 without multi-byte escaping (UTF-8 names stay readable).
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n > 0 ? n : 0));
  BIO_free(bio);
  return out;
}

std::string ia5(const ASN1_IA5STRING* s) {
  if (!s) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

template <class F>
void for_each_san(X509* cert, F&& f) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) f(sk_GENERAL_NAME_value(names, i));
  GENERAL_NAMES_free(names);
}

}  // namespace

PeerCertificate describe_certificate(X509* cert) {
  PeerCertificate p;
  if (!cert) return p;
  p.subject = name_text(X509_get_subject_name(cert));
  p.issuer = name_text(X509_get_issuer_name(cert));
  for_each_san(cert, [&](const GENERAL_NAME* g) {
    switch (g->type) {
      case GEN_DNS:
        p.san_dns.push_back(ia5(g->d.dNSName));
        break;
      case GEN_URI:
        p.san_uri.push_back(ia5(g->d.uniformResourceIdentifier));
        break;
      case GEN_EMAIL:
        p.san_email.push_back(ia5(g->d.rfc822Name));
        break;
      default:
        break;
    }
  });
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) == 1) {
    static constexpr char kHex[] = "0123456789abcdef";
    p.fingerprint_sha256.reserve(len * 2);
    for (unsigned i = 0; i < len; ++i) {
      p.fingerprint_sha256 += kHex[md[i] >> 4];
      p.fingerprint_sha256 += kHex[md[i] & 15];
    }
  }
  return p;
}

ConnectionInfo describe_connection(SSL* ssl) {
  ConnectionInfo c;
  c.version = SSL_get_version(ssl);
  if (const char* cipher = SSL_get_cipher_name(ssl)) c.cipher = cipher;
  if (const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) c.sni = sni;
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (alpn) c.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  c.resumed = SSL_session_reused(ssl) == 1;
  // On a resumed session the certificate is the one verified when the
  // session was made (OpenSSL keeps it in the session).
  if (X509* peer = SSL_get0_peer_certificate(ssl); peer && SSL_get_verify_result(ssl) == X509_V_OK)
    c.peer = describe_certificate(peer);
  return c;
}

std::vector<std::string> server_names(X509* cert) {
  std::vector<std::string> out;
  if (!cert) return out;
  for_each_san(cert, [&](const GENERAL_NAME* g) {
    if (g->type == GEN_DNS) out.push_back(ia5(g->d.dNSName));
  });
  if (!out.empty()) return out;
  X509_NAME* subject = X509_get_subject_name(cert);
  int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (i >= 0) {
    const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)),
                     static_cast<size_t>(ASN1_STRING_length(cn)));
  }
  return out;
}

std::string last_openssl_error() {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return {};
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  // "error:0A00018F:SSL routines::ee key too small" -> keep the reason.
  std::string s(buf);
  size_t cut = s.rfind(':');
  return cut != std::string::npos && cut + 1 < s.size() ? s.substr(cut + 1) : s;
}

}  // namespace gatehouse::net::tls
