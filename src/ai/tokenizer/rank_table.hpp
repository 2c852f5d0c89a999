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
    const size_t n = bytes.size();
    const uint64_t mask = slots_.size() - 1;
    if (n <= 8) {
      // Short keys (most tokens, nearly every pair BPE asks about) are stored
      // whole in the slot: a lookup reads one cache line and never the token
      // bytes, which would be two more misses (offsets_, then blob_).
      const uint64_t key = pack_short(bytes.data(), n);
      for (uint64_t i = mix(key, n) & mask;; i = (i + 1) & mask) {
        const Slot& s = slots_[i];
        if (s.rank == kNoRank) return kNoRank;
        if (s.len == n && s.key == key) return s.rank;
      }
    }
    const uint64_t h = hash(bytes);
    for (uint64_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.rank == kNoRank) return kNoRank;
      if (s.len == n && s.key == h && bytes_of(s.rank) == bytes) return s.rank;
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

  // The slot position of any key; for keys up to 8 bytes it is
  // mix(pack_short(key)), so rank() can compute both at once.
  static uint64_t hash(std::string_view s);

  // Up to 8 bytes as one word, without a variable-length memcpy (a libc call,
  // the hottest spot in an early profile): 8 bytes as one load, 4 to 7 as two
  // overlapping 4-byte loads, 1 to 3 as first, middle and last byte. For a
  // given length the word determines the bytes exactly.
  static uint64_t pack_short(const char* p, size_t n) {
    if (n == 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      return w;
    }
    if (n >= 4) {
      uint32_t a, b;
      std::memcpy(&a, p, 4);
      std::memcpy(&b, p + n - 4, 4);
      return (uint64_t(a) << 32) | b;
    }
    if (n == 0) return 0;
    return (uint64_t(static_cast<unsigned char>(p[0])) << 16) |
           (uint64_t(static_cast<unsigned char>(p[n >> 1])) << 8) |
           static_cast<unsigned char>(p[n - 1]);
  }
  // splitmix64's finaliser over the word and the length.
  static uint64_t mix(uint64_t w, uint64_t n) {
    uint64_t h = (w ^ (n * 0x9E3779B97F4A7C15ULL)) * 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 31;
    h *= 0x94D049BB133111EBULL;
    return h ^ (h >> 29);
  }

 private:
  Result<void> add(std::string_view b64, uint64_t rank, size_t line);
  Result<void> finish();

  std::string blob_;               // all token bytes, in rank order
  std::vector<uint32_t> offsets_;  // rank -> start in blob_; offsets_[r + 1] is its end
  // Open addressing, linear probing, 16 bytes a slot. key holds the token's
  // bytes when it has at most 8 (compared whole), else its full hash (then
  // the bytes are compared too).
  struct Slot {
    uint64_t key = 0;
    uint32_t rank = kNoRank;
    uint32_t len = 0;
  };
  std::vector<Slot> slots_;
  uint32_t byte_ranks_[256] = {};
  size_t count_ = 0;
  // Filled while parsing, then laid out by finish().
  std::vector<std::pair<uint32_t, std::string>> pending_;
};

}  // namespace gatehouse::ai
