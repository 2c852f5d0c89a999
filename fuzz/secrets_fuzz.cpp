// Key files (--secret-key-file / GATEHOUSE_SECRET_KEY) and sealed values
// read back from the store: neither may crash, a sealed value that opens
// must be one we sealed, and seal -> unseal is the identity.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "admin/secrets.hpp"

using namespace gatehouse::admin::secrets;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto ring = Keyring::parse(in, "fuzz");
  if (ring) {
    for (const auto& k : ring->keys())
      if (k.bytes.size() != 32 || k.id.size() != 8) std::abort();
  }
  static const Keyring fixed =
      *Keyring::parse("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "fixed");
  (void)key_id_of(in);
  auto opened = unseal(fixed, in, "fuzz/field");
  (void)opened;
  auto sealed = seal(fixed, in, "fuzz/field");
  if (!sealed) std::abort();
  auto back = unseal(fixed, *sealed, "fuzz/field");
  if (!back || *back != in) std::abort();
  if (unseal(fixed, *sealed, "fuzz/other")) std::abort();
  return 0;
}
