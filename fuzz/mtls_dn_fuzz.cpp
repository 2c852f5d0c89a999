// libFuzzer target: the names TLS code compares. mtls-auth's canonical DN and
// fingerprint forms must be fixed points (canonicalising twice changes
// nothing, or the index and the lookup could disagree), and so must SNI name
// normalisation; a normalised name never carries upper case or a trailing dot.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/tls/sni.hpp"
#include "policies/mtls_auth/dn.hpp"

namespace {

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  using namespace gatehouse;
  if (auto dn = policy::mtls::canonical_dn(in)) {
    auto again = policy::mtls::canonical_dn(*dn);
    CHECK(again && *again == *dn);
  }
  if (auto fp = policy::mtls::canonical_fingerprint(in)) {
    CHECK(fp->size() == 64);
    auto again = policy::mtls::canonical_fingerprint(*fp);
    CHECK(again && *again == *fp);
  }
  std::string n = net::tls::normalize_name(in);
  if (!n.empty()) {
    CHECK(net::tls::normalize_name(n) == n);
    CHECK(n.back() != '.');
    for (char c : n) CHECK(!(c >= 'A' && c <= 'Z'));
    // A name always covers itself unless it is a wildcard.
    if (n[0] != '*') CHECK(net::tls::name_matches(n, n));
    net::tls::SniIndex idx;
    idx.add(n, 3);
    int found = idx.find(n);
    CHECK(n[0] == '*' ? found == -1 : found == 3);
  }
  return 0;
}
