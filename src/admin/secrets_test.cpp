#include "admin/secrets.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "policies/crypto.hpp"

namespace gatehouse::admin::secrets {
namespace {

const std::string kHexKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

Keyring ring_of(const std::string& text) {
  auto r = Keyring::parse(text, "test");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : Keyring{};
}

TEST(Secrets, ParsesHexAndBase64KeysCurrentFirst) {
  std::string b64 = policy::base64_encode(std::string(32, 'k'));
  auto ring = ring_of("# rotation\n" + b64 + "\n" + kHexKey + ", " + kHexKey + "\n");
  ASSERT_EQ(ring.keys().size(), 2u);  // the duplicate is folded
  EXPECT_EQ(ring.current()->bytes, std::string(32, 'k'));
  EXPECT_EQ(ring.current()->id.size(), 8u);
  EXPECT_NE(ring.find(Keyring::make_key(std::string(32, 'k')).id), nullptr);
  // base64url works too.
  auto url = ring_of(policy::base64_encode(std::string(32, '\xfb'), true));
  EXPECT_EQ(url.current()->bytes, std::string(32, '\xfb'));
}

TEST(Secrets, RefusesKeysOfTheWrongSize) {
  auto r = Keyring::parse("abcd\n", "keyfile");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "invalid_secret_key");
  EXPECT_NE(r.error().message.find("keyfile:1"), std::string::npos) << r.error().message;
  auto r2 = Keyring::parse(kHexKey + "\n" + policy::base64_encode(std::string(16, 'x')), "f");
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("f:2: key 2"), std::string::npos) << r2.error().message;
}

TEST(Secrets, SealUnsealRoundTripWithoutPlaintext) {
  auto ring = ring_of(kHexKey);
  auto s = seal(ring, "sk-live-1234567890abcdef", "llm_provider.api_key");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->rfind("gh1." + ring.current()->id + ".", 0), 0u) << *s;
  EXPECT_EQ(s->find("sk-live"), std::string::npos);
  EXPECT_EQ(key_id_of(*s), ring.current()->id);
  auto back = unseal(ring, *s, "llm_provider.api_key");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, "sk-live-1234567890abcdef");
  // A fresh nonce every time.
  EXPECT_NE(*seal(ring, "x", "a"), *seal(ring, "x", "a"));
  // The empty secret too.
  EXPECT_EQ(*unseal(ring, *seal(ring, "", "a"), "a"), "");
}

TEST(Secrets, TamperingIsDetected) {
  auto ring = ring_of(kHexKey);
  std::string s = *seal(ring, "sk-secret-value", "f");
  // Every character of the payload, the last one included (its unused low
  // bits would otherwise spell the same bytes another way).
  for (size_t pos = 13; pos < s.size(); ++pos) {
    std::string t = s;
    t[pos] = t[pos] == 'A' ? 'B' : 'A';
    auto r = unseal(ring, t, "f");
    ASSERT_FALSE(r.ok()) << pos;
    EXPECT_EQ(r.error().code, "secret_corrupt");
  }
  EXPECT_FALSE(unseal(ring, s.substr(0, 20), "f").ok());
  EXPECT_EQ(unseal(ring, "plaintext", "f").error().code, "secret_corrupt");
}

TEST(Secrets, MovedToAnotherFieldDoesNotOpen) {
  auto ring = ring_of(kHexKey);
  std::string s = *seal(ring, "sk-secret-value", "llm_provider.api_key");
  auto r = unseal(ring, s, "llm_provider.aws.session_token");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "secret_corrupt");
}

TEST(Secrets, WrongOrMissingKey) {
  auto ring = ring_of(kHexKey);
  std::string s = *seal(ring, "sk-secret-value", "f");
  auto other = ring_of(policy::base64_encode(std::string(32, 'z')));
  auto r = unseal(other, s, "f");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "secret_key_missing");
  EXPECT_NE(r.error().message.find(ring.current()->id), std::string::npos);
  // Same id, different bytes (a forged id): authentication fails.
  Keyring forged;
  Key k = Keyring::make_key(std::string(32, 'z'));
  k.id = ring.current()->id;
  forged.add(k);
  EXPECT_EQ(unseal(forged, s, "f").error().code, "secret_corrupt");
  EXPECT_EQ(seal(Keyring{}, "x", "f").error().code, "secret_key_missing");
}

TEST(Secrets, RotationKeepsOldKeysForReading) {
  auto old_ring = ring_of(kHexKey);
  std::string s = *seal(old_ring, "sk-secret-value", "f");
  auto rotated = ring_of(policy::base64_encode(std::string(32, 'n')) + "\n" + kHexKey);
  EXPECT_EQ(*unseal(rotated, s, "f"), "sk-secret-value");
  EXPECT_EQ(key_id_of(*seal(rotated, "v", "f")), rotated.current()->id);
  EXPECT_NE(rotated.current()->id, old_ring.current()->id);
}

TEST(Secrets, GeneratedKeyFileIsPrivateAndNotOverwritten) {
  char tmpl[] = "/tmp/gatehouse-secrets-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/secret.key";
  auto k = generate_key_file(path);
  ASSERT_TRUE(k.ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = load_keyring(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->current()->id, k->id);
  EXPECT_FALSE(generate_key_file(path).ok());
  std::filesystem::remove_all(tmpl);
}

TEST(Secrets, PrepareRefusesStoredSecretsWithoutTheirKey) {
  char tmpl[] = "/tmp/gatehouse-secrets-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  unsetenv("GATEHOUSE_SECRET_KEY");
  auto r = prepare_process_keyring("", tmpl, true, {"deadbeef"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "secret_key_missing");
  EXPECT_NE(r.error().message.find("deadbeef"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(std::string(tmpl) + "/secret.key"));
  // Nothing stored yet: the embedded default gets a generated key.
  auto g = prepare_process_keyring("", tmpl, true, {});
  ASSERT_TRUE(g.ok());
  EXPECT_NE(g->find("secret.key"), std::string::npos);
  std::string id = process_keyring().current()->id;
  // Next start: the same key, nothing generated.
  auto again = prepare_process_keyring("", tmpl, true, {id});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "");
  EXPECT_EQ(process_keyring().current()->id, id);
  process_keyring() = Keyring{};
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace gatehouse::admin::secrets
