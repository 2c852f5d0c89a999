// AWS SigV4: see sigv4.hpp.
#include "ai/providers/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "ai/providers/http_call.hpp"
#include "policies/crypto.hpp"
#include "policies/query.hpp"

namespace gatehouse::ai::sigv4 {
namespace {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Header values: outer white space trimmed, inner runs folded to one space.
std::string fold_spaces(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// Each name=value pair decoded, then encoded the SigV4 way, sorted by name
// and then value.
std::string canonical_query(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> pairs;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view item = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string_view k = item.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
    pairs.emplace_back(uri_encode(percent_decode(k, false), false),
                       uri_encode(percent_decode(v, false), false));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += k + "=" + v;
  }
  return out;
}

}  // namespace

std::string uri_encode(std::string_view s, bool keep_slash) {
  return providers::percent_encode(s, keep_slash);
}

std::string amz_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

Signed sign(const Request& r, const Credentials& c, std::string_view region,
            std::string_view service, std::string_view amz_date) {
  // Headers: lower-case names, sorted; repeated names joined with commas.
  std::vector<std::pair<std::string, std::string>> hs;
  for (const auto& [n, v] : r.headers) hs.emplace_back(lower(n), fold_spaces(v));
  std::stable_sort(hs.begin(), hs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers;
  std::string signed_headers;
  for (size_t i = 0; i < hs.size(); ++i) {
    if (i > 0 && hs[i].first == hs[i - 1].first) {
      canonical_headers.back() = ',';
      canonical_headers += hs[i].second + "\n";
      continue;
    }
    canonical_headers += hs[i].first + ":" + hs[i].second + "\n";
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += hs[i].first;
  }
  // The path as sent is encoded again (every service but S3 signs it so).
  std::string path = r.path.empty() ? "/" : uri_encode(r.path, true);

  Signed s;
  s.canonical_request = r.method + "\n" + path + "\n" + canonical_query(r.query) + "\n" +
                        canonical_headers + "\n" + signed_headers + "\n" +
                        policy::hex(policy::sha256(r.body));
  std::string date(amz_date.substr(0, 8));
  std::string scope =
      date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  s.string_to_sign = "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + scope + "\n" +
                     policy::hex(policy::sha256(s.canonical_request));
  std::string k = hmac_sha256("AWS4" + c.secret_access_key, date);
  k = hmac_sha256(k, region);
  k = hmac_sha256(k, service);
  k = hmac_sha256(k, "aws4_request");
  s.signature = policy::hex(hmac_sha256(k, s.string_to_sign));
  s.authorization = "AWS4-HMAC-SHA256 Credential=" + c.access_key_id + "/" + scope +
                    ", SignedHeaders=" + signed_headers + ", Signature=" + s.signature;
  return s;
}

}  // namespace gatehouse::ai::sigv4
