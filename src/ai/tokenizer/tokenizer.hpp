// A byte-level BPE tokenizer for OpenAI's o200k_base and cl100k_base, matching
// tiktoken token for token; used for pre-request token estimates. Immutable
// after load: one instance serves every worker without locks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ai/tokenizer/pretokenizer.hpp"
#include "ai/tokenizer/rank_table.hpp"
#include "common/result.hpp"

namespace gatehouse::ai {

enum class Encoding { kO200kBase, kCl100kBase };

std::string_view encoding_name(Encoding e);
std::optional<Encoding> encoding_from_name(std::string_view name);

// Where rank files are looked for: `configured` if not empty, else the
// environment variable GATEHOUSE_TOKENIZER_DIR, else the folder scripts/bootstrap
// installs them in (tools/tokenizer/node_modules/tiktoken/encoders of the source
// tree this binary was built from).
constexpr const char* kTokenizerDirEnv = "GATEHOUSE_TOKENIZER_DIR";
std::string resolve_tokenizer_dir(std::string_view configured = {});
std::string default_tokenizer_dir();
// The source tree the binary was built from (tests find their fixtures there).
std::string_view gatehouse_source_dir();

// Which special tokens (<|endoftext|>, ...) encode() recognises. Anything not
// allowed is ordinary text: user content that happens to spell a special token
// must not become one.
class AllowedSpecial {
 public:
  static AllowedSpecial none() { return AllowedSpecial(false, {}); }
  static AllowedSpecial all() { return AllowedSpecial(true, {}); }
  static AllowedSpecial only(std::vector<std::string> names) {
    return AllowedSpecial(false, std::move(names));
  }
  bool allows(std::string_view name) const;
  bool any() const { return all_ || !names_.empty(); }

 private:
  AllowedSpecial(bool all, std::vector<std::string> names)
      : all_(all), names_(std::move(names)) {}
  bool all_;
  std::vector<std::string> names_;
};

class Tokenizer {
 public:
  // Loads <dir>/<encoding name>.json (dir resolved by resolve_tokenizer_dir).
  static Result<std::shared_ptr<const Tokenizer>> load(Encoding encoding,
                                                       std::string_view dir = {});
  // Loads one rank file: JSON {"pat_str", "special_tokens", "bpe_ranks"}. Its
  // pat_str must be one of the patterns pretokenizer.cpp implements.
  static Result<std::shared_ptr<const Tokenizer>> load_file(const std::string& path);
  static Result<std::shared_ptr<const Tokenizer>> from_json(std::string_view json,
                                                            const std::string& origin);

  Encoding encoding() const { return encoding_; }
  std::string_view name() const { return encoding_name(encoding_); }

  std::vector<uint32_t> encode(std::string_view text,
                               const AllowedSpecial& allowed = AllowedSpecial::none()) const;
  size_t count(std::string_view text,
               const AllowedSpecial& allowed = AllowedSpecial::none()) const;
  // The bytes the tokens stand for. A token sequence cut inside a multi-byte
  // character gives bytes that are not valid UTF-8, as tiktoken's does.
  Result<std::string> decode(std::span<const uint32_t> tokens) const;

  // Ranks + special tokens (o200k_base: 199,998 + 2).
  size_t vocab_size() const { return ranks_.size() + specials_.size(); }
  std::optional<uint32_t> special_token(std::string_view name) const;
  const RankTable& rank_table() const { return ranks_; }

 private:
  struct Special {
    std::string text;
    uint32_t id;
  };
  Tokenizer(Encoding encoding, SplitPattern pattern, RankTable ranks, std::vector<Special> specials)
      : encoding_(encoding), pattern_(pattern), ranks_(std::move(ranks)),
        specials_(std::move(specials)) {}

  template <class Sink>
  void run(std::string_view text, const AllowedSpecial& allowed, Sink&& sink) const;
  template <class Sink>
  void encode_ordinary(std::string_view text, std::vector<uint32_t>& scratch, Sink&& sink) const;

  Encoding encoding_;
  SplitPattern pattern_;
  RankTable ranks_;
  std::vector<Special> specials_;
};

// Both encodings, loaded together at start.
struct Tokenizers {
  std::shared_ptr<const Tokenizer> o200k_base;
  std::shared_ptr<const Tokenizer> cl100k_base;

  static Result<Tokenizers> load(std::string_view dir = {});
  const Tokenizer& get(Encoding e) const {
    return e == Encoding::kCl100kBase ? *cl100k_base : *o200k_base;
  }
};

}  // namespace gatehouse::ai
