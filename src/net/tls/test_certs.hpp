// Tests only: self-signed certificates and keys made in process (P-256), so
// unit tests need no fixture files and can choose names and validity.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <string>
#include <vector>

namespace gatehouse::net::tls::testing {

struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};

inline std::string key_to_pem(EVP_PKEY* key) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* d = nullptr;
  long n = BIO_get_mem_data(b, &d);
  std::string out(d, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

// `sans` like "DNS:a.test,IP:127.0.0.1" (empty: none); validity in seconds
// from now (negative: in the past).
inline TestCert make_test_cert(const std::string& cn, const std::string& sans,
                               long not_before = -3600, long not_after = 86'400) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), not_before);
  X509_gmtime_adj(X509_getm_notAfter(x), not_after);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  if (!sans.empty()) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, sans.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char* d = nullptr;
  long n = BIO_get_mem_data(b, &d);
  TestCert out{std::string(d, static_cast<size_t>(n)), key_to_pem(key)};
  BIO_free(b);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace gatehouse::net::tls::testing
