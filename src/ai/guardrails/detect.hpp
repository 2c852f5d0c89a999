// PII detectors: hand-written scanners over UTF-8 text (ASCII-significant
// only), linear in the text. They find emails, phone numbers (E.164 and
// common national forms), card numbers (13-19 digits, separators, Luhn),
// API keys (well-known prefixes and high-entropy tokens) and IPv4/IPv6
// addresses. Matches never overlap: when two detectors claim the same bytes
// the earlier one in PiiType order wins (a Luhn-valid card is not also a
// phone number, an IP address is not a phone number).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace gatehouse::ai::guardrails {

enum class PiiType : uint8_t { kCard, kApiKey, kEmail, kIp, kPhone };
inline constexpr size_t kPiiTypes = 5;

// "card", "api_key", "email", "ip", "phone" (config keys and metric labels).
std::string_view pii_name(PiiType t);
std::optional<PiiType> parse_pii(std::string_view name);
// The text a masked match is replaced with: "[CARD]", "[API_KEY]", ...
std::string_view pii_mask(PiiType t);

struct PiiMatch {
  size_t begin = 0;
  size_t end = 0;  // one past the last byte
  PiiType type = PiiType::kCard;
};

// Bit (1 << type) set for every type to look for.
using PiiSet = uint32_t;
inline constexpr PiiSet pii_bit(PiiType t) {
  return PiiSet{1} << static_cast<unsigned>(t);
}

// Appends the matches of the enabled types, sorted by begin, non-overlapping.
void find_pii(std::string_view text, PiiSet enabled, std::vector<PiiMatch>& out);

// Building blocks, exposed for tests.
bool luhn_valid(std::string_view digits);        // digits only
double shannon_entropy(std::string_view token);  // bits per byte

}  // namespace gatehouse::ai::guardrails
