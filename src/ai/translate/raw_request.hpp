// Same-format requests: when the client and the provider speak the same wire
// format, the client's body goes to the provider as the client wrote it, with
// only the members the gateway must own replaced. Fields the IR does not model
// (response_format, seed, n, logprobs, service_tier, provider extensions...)
// reach the provider, and numbers, key order and whitespace stay the client's.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::ai {

// One member of a top-level JSON object, as byte offsets into the text.
struct RawMember {
  std::string_view key;  // as written between the quotes (escapes not decoded)
  size_t begin = 0;      // the key's opening quote
  size_t value_begin = 0;
  size_t value_end = 0;  // one past the value
};

// The members of the top-level object `text` holds, in order; nullopt when
// the text is not one object (whitespace around it allowed) or is cut.
// A scan, not a validation: callers pass text a JSON parser already accepted.
std::optional<std::vector<RawMember>> scan_top_level(std::string_view text);

// The client's body with `model` set to `model` and, when `force_include_usage`
// (streamed Chat: the ledger needs the usage chunk), `stream_options.include_usage`
// true. nullopt when the body cannot be rewritten in place (no `model`, a
// duplicated one, escaped keys): the caller re-encodes from the IR instead.
std::optional<std::string> rewrite_same_format(std::string_view body, std::string_view model,
                                               bool force_include_usage);

}  // namespace gatehouse::ai
