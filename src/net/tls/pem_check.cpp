#include "net/tls/pem_check.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>
#include <memory>

#include "net/tls/cert_info.hpp"

namespace gatehouse::net::tls {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

Error bad(const char* field, const char* code, std::string message) {
  return make_error(code, std::move(message), field, 400, ErrorSide::kDownstream);
}

// OpenSSL's default callback would read a passphrase from the terminal.
int no_passphrase(char*, int, int, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

BioPtr mem_bio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

int64_t unix_time(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::vector<std::string> san_ips(X509* cert) {
  std::vector<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    if (g->type != GEN_IPADD) continue;
    const unsigned char* b = ASN1_STRING_get0_data(g->d.iPAddress);
    int n = ASN1_STRING_length(g->d.iPAddress);
    char buf[64];
    if (n == 4) {
      std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
      out.emplace_back(buf);
    } else if (n == 16) {
      std::string s;
      for (int j = 0; j < 16; j += 2) {
        std::snprintf(buf, sizeof buf, "%s%x", j ? ":" : "", (b[j] << 8) | b[j + 1]);
        s += buf;
      }
      out.push_back(std::move(s));
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string reason(std::string fallback) {
  std::string r = last_openssl_error();
  return r.empty() ? fallback : r;
}

Result<CertificateSummary> summarize(std::string_view cert_pem, X509Ptr* leaf_out) {
  ERR_clear_error();
  if (cert_pem.find("-----BEGIN") == std::string_view::npos)
    return bad("cert", "invalid_certificate",
               "not a PEM certificate (no \"-----BEGIN CERTIFICATE-----\" line)");
  if (cert_pem.find("PRIVATE KEY-----") != std::string_view::npos)
    return bad("cert", "invalid_certificate",
               "holds a private key; the key goes in its own field, the certificate here");
  auto bio = mem_bio(cert_pem);
  X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!leaf)
    return bad("cert", "invalid_certificate",
               "not a PEM certificate: " + reason("no certificate found"));
  CertificateSummary s;
  // The rest is the chain; the loop ends on "no start line" at the end of
  // the text, anything else is a broken certificate in it.
  for (;;) {
    X509Ptr next(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!next) {
      unsigned long e = ERR_peek_last_error();
      if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
        ERR_clear_error();
        break;
      }
      return bad("cert", "invalid_certificate",
                 "certificate " + std::to_string(s.chain + 2) +
                     " of the chain is not a valid PEM certificate: " + reason("unreadable"));
    }
    ++s.chain;
  }
  PeerCertificate p = describe_certificate(leaf.get());
  s.subject = std::move(p.subject);
  s.issuer = std::move(p.issuer);
  s.fingerprint_sha256 = std::move(p.fingerprint_sha256);
  s.san_dns = std::move(p.san_dns);
  s.names = server_names(leaf.get());
  s.san_ip = san_ips(leaf.get());
  s.not_before = unix_time(X509_get0_notBefore(leaf.get()));
  s.not_after = unix_time(X509_get0_notAfter(leaf.get()));
  if (leaf_out) *leaf_out = std::move(leaf);
  return s;
}

}  // namespace

Result<CertificateSummary> summarize_certificate(std::string_view cert_pem) {
  return summarize(cert_pem, nullptr);
}

Result<CertificateSummary> check_pem_pair(std::string_view cert_pem, std::string_view key_pem) {
  X509Ptr leaf;
  auto s = summarize(cert_pem, &leaf);
  if (!s) return s;
  if (key_pem.find("-----BEGIN") == std::string_view::npos)
    return bad("key", "invalid_private_key",
               "not a PEM private key (no \"-----BEGIN PRIVATE KEY-----\" line)");
  if (key_pem.find("ENCRYPTED") != std::string_view::npos)
    return bad("key", "invalid_private_key",
               "the private key is encrypted; give it unencrypted (openssl pkey -in KEY -out "
               "PLAIN)");
  ERR_clear_error();
  auto bio = mem_bio(key_pem);
  bool asked = false;
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, &asked));
  if (!key) {
    if (asked)
      return bad("key", "invalid_private_key", "the private key is encrypted; give it unencrypted");
    return bad("key", "invalid_private_key",
               "not a PEM private key: " + reason("no private key found"));
  }
  ERR_clear_error();
  if (X509_check_private_key(leaf.get(), key.get()) != 1) {
    ERR_clear_error();
    return bad("key", "key_mismatch", "the private key does not belong to the certificate");
  }
  return s;
}

std::string rfc3339(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string validity_problem(const CertificateSummary& s, int64_t now) {
  if (now > s.not_after) return "expired on " + rfc3339(s.not_after);
  if (now < s.not_before) return "not valid before " + rfc3339(s.not_before);
  return {};
}

}  // namespace gatehouse::net::tls
