// The mergeable ranks of one encoding: token bytes <-> rank, read from the
// "bpe_ranks" text of a rank file.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace gatehouse::ai {

constexpr uint32_t kNoRank = 0xFFFFFFFF;

class RankTable {
 public:
  // Two layouts are accepted:
  //  - compact (the npm tiktoken package): lines "! <first-rank> <b64> <b64> ...",
  //    the i-th base64 field being the bytes of rank first-rank + i;
  //  - classic (.tiktoken files): lines "<b64> <rank>".
  // Also checks what BPE relies on: every single byte has a rank and no two
  // ranks share bytes.
  static Result<RankTable> parse(std::string_view text);

  // Rank of exactly these bytes, or kNoRank.
  uint32_t rank(std::string_view bytes) const {
    uint64_t h = hash(bytes);
    auto tag = static_cast<uint32_t>(h >> 32);
    uint64_t mask = slots_.size() - 1;
    for (uint64_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.rank == kNoRank) return kNoRank;
      if (s.tag == tag && bytes_of(s.rank) == bytes) return s.rank;
    }
  }
  uint32_t byte_rank(unsigned char b) const { return byte_ranks_[b]; }
  // Bytes of a rank; empty when the rank is not in the table.
  std::string_view bytes_of(uint32_t r) const {
    if (r + 1 >= offsets_.size()) return {};
    return std::string_view(blob_).substr(offsets_[r], offsets_[r + 1] - offsets_[r]);
  }
  size_t size() const { return count_; }
  uint32_t max_rank() const { return offsets_.size() < 2 ? 0 : uint32_t(offsets_.size() - 2); }

  static uint64_t hash(std::string_view s);

 private:
  Result<void> add(std::string_view b64, uint64_t rank, size_t line);
  Result<void> finish();

  std::string blob_;               // all token bytes, in rank order
  std::vector<uint32_t> offsets_;  // rank -> start in blob_; offsets_[r + 1] is its end
  // Open addressing, linear probing. The tag (high hash bits) settles most
  // misses without touching the token bytes: BPE asks about many pairs that
  // are not tokens.
  struct Slot {
    uint32_t rank = kNoRank;
    uint32_t tag = 0;
  };
  std::vector<Slot> slots_;
  uint32_t byte_ranks_[256] = {};
  size_t count_ = 0;
  // Filled while parsing, then laid out by finish().
  std::vector<std::pair<uint32_t, std::string>> pending_;
};

}  // namespace gatehouse::ai
