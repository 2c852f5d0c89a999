// libFuzzer target: the YAML loader must turn any byte string into a Config or
// a list of errors; it must never crash, hang, leak or throw. Seeds live in
// fuzz/corpus/config/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = gatehouse::config::load_config_text(text, "fuzz.yaml");
  // Exercise the formatting path too: every error must render.
  size_t total = 0;
  for (const auto& e : result.errors) total += e.to_string().size();
  // A valid document must stay valid when validated again without positions.
  if (result.ok()) {
    std::vector<gatehouse::config::ConfigError> again;
    gatehouse::config::validate(result.config, again);
    if (!again.empty()) __builtin_trap();
  }
  return total == static_cast<size_t>(-1) ? 1 : 0;
}
