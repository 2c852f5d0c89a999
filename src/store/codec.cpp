#include "store/codec.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <stdexcept>

#include "common/json.hpp"
#include "common/percent.hpp"

namespace gatehouse::store {

namespace json = boost::json;

namespace {

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

void random_bytes(unsigned char* out, size_t n) {
  // RAND_bytes only fails when the OS entropy source is gone; an id or a
  // token secret from a broken generator must never be used.
  if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

std::string base64url(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::optional<std::string> unbase64url(std::string_view in) {
  std::string s(in);
  for (char& c : s) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (!std::isalnum(static_cast<unsigned char>(c)))
      return std::nullopt;
  }
  if (s.size() % 4 == 1) return std::nullopt;
  size_t pad = (4 - s.size() % 4) % 4;
  s.append(pad, '=');
  std::string out(s.size() / 4 * 3, '\0');
  int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);  // DecodeBlock counts padding as zero bytes
  return out;
}

}  // namespace

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string new_uuid() {
  unsigned char b[16];
  random_bytes(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 15];
  }
  return out;
}

std::optional<std::string> normalize_uuid(std::string_view s) {
  if (s.size() != 36) return std::nullopt;
  std::string out(s);
  for (size_t i = 0; i < out.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? out[i] != '-' : !is_hex_digit(out[i])) return std::nullopt;
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  }
  return out;
}

std::string random_base64url(size_t bytes) {
  std::string raw(bytes, '\0');
  random_bytes(reinterpret_cast<unsigned char*>(raw.data()), bytes);
  return base64url(raw);
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Error invalid(std::string field, std::string message) {
  return make_error("invalid_entity", std::move(message), std::move(field), 400,
                    ErrorSide::kDownstream);
}

Error not_found(const Ref& ref) {
  std::string what = ref.kind.empty() ? "entity" : ref.kind;
  std::string msg =
      ref.id.empty() ? what + " '" + ref.name + "' not found in workspace '" + ref.workspace + "'"
                     : what + " " + ref.id + " not found";
  return make_error("not_found", std::move(msg), ref.id.empty() ? "name" : "id", 404,
                    ErrorSide::kDownstream);
}

Error store_failure(std::string message) {
  return make_error("store_error", std::move(message), {}, 500, ErrorSide::kInternal);
}

Result<void> check_kind(const std::string& kind, const std::string& field) {
  bool ok = !kind.empty() && kind.size() <= 64 && kind[0] >= 'a' && kind[0] <= 'z' &&
            std::all_of(kind.begin(), kind.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
            });
  if (!ok) return invalid(field, "kind must match [a-z][a-z0-9_]* (at most 64 characters)");
  return Ok{};
}

Result<void> check_workspace(const std::string& ws, const std::string& field) {
  bool ok =
      !ws.empty() && ws.size() <= 64 && ws != "*" && std::all_of(ws.begin(), ws.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
  if (!ok) return invalid(field, "workspace must be 1-64 characters of [A-Za-z0-9._-]");
  return Ok{};
}

Result<void> check_entity(Entity& e, const std::string& field) {
  auto at = [&](const char* f) { return field.empty() ? std::string(f) : field + "." + f; };
  if (auto r = check_kind(e.kind, at("kind")); !r) return r;
  if (auto r = check_workspace(e.workspace, at("workspace")); !r) return r;
  if (!e.id.empty()) {
    auto id = normalize_uuid(e.id);
    if (!id) return invalid(at("id"), "id must be a UUID (8-4-4-4-12 hex digits)");
    e.id = *id;
  }
  if (e.name.size() > 255 || has_control(e.name))
    return invalid(at("name"), "name must be at most 255 bytes without control characters");
  for (size_t i = 0; i < e.tags.size(); ++i) {
    const std::string& t = e.tags[i];
    std::string tf = at("tags") + "[" + std::to_string(i) + "]";
    if (t.empty() || t.size() > 128 || has_control(t))
      return invalid(tf, "a tag must be 1-128 bytes without control characters");
    if (std::find(e.tags.begin(), e.tags.begin() + static_cast<long>(i), t) !=
        e.tags.begin() + static_cast<long>(i))
      return invalid(tf, "duplicate tag '" + t + "'");
  }
  return Ok{};
}

json::value entity_to_json(const Entity& e) {
  json::array tags;
  for (const auto& t : e.tags) tags.emplace_back(t);
  return json::object{{"id", e.id},
                      {"kind", e.kind},
                      {"workspace", e.workspace},
                      {"name", e.name},
                      {"tags", std::move(tags)},
                      {"body", e.body},
                      {"version", e.version},
                      {"created_at", e.created_at},
                      {"updated_at", e.updated_at},
                      {"revision", e.revision}};
}

std::string tags_to_json(const std::vector<std::string>& tags) {
  json::array a;
  for (const auto& t : tags) a.emplace_back(t);
  return json::serialize(a);
}

std::vector<std::string> tags_from_json(std::string_view text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  json::value v = parse_json(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& t : v.as_array())
    if (t.is_string()) out.emplace_back(t.as_string());
  return out;
}

std::string body_to_json(const json::value& body) {
  return json::serialize(body);
}

json::value body_from_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = parse_json(text, ec);
  return ec ? json::value() : v;
}

std::string encode_cursor(const std::vector<std::string>& key) {
  json::array a;
  for (const auto& k : key) a.emplace_back(k);
  return base64url(json::serialize(a));
}

Result<std::vector<std::string>> decode_cursor(std::string_view cursor, size_t parts) {
  auto bad = [] {
    return make_error("invalid_cursor", "the cursor is not one this server handed out", "cursor",
                      400, ErrorSide::kDownstream);
  };
  auto raw = unbase64url(cursor);
  if (!raw) return bad();
  boost::system::error_code ec;
  json::value v = parse_json(*raw, ec);
  if (ec || !v.is_array() || v.as_array().size() != parts) return bad();
  std::vector<std::string> out;
  for (const auto& p : v.as_array()) {
    if (!p.is_string()) return bad();
    out.emplace_back(p.as_string());
  }
  return out;
}

}  // namespace gatehouse::store
