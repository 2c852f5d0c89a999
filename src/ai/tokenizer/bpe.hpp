// Byte-pair merge of one pre-tokenizer piece: start from single bytes and keep
// merging the adjacent pair whose concatenation has the lowest rank (the
// leftmost one on a tie) until no adjacent pair is a token.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "ai/tokenizer/rank_table.hpp"

namespace gatehouse::ai {

enum class MergeAlgorithm {
  kAuto,    // linear for short pieces, heap for long ones
  kLinear,  // O(n^2): rescans all pairs after each merge; fastest for short pieces
  kHeap,    // O(n log n): a min-heap of (rank, position) with lazy deletion
};

// Pieces up to this many bytes merge with the linear scan.
constexpr size_t kLinearMergeMax = 128;

// Appends the ranks of piece to out. Does not try the whole piece as one token
// first; the caller does (tiktoken does, and the result can differ).
void byte_pair_merge(const RankTable& ranks, std::string_view piece, std::vector<uint32_t>& out,
                     MergeAlgorithm algorithm = MergeAlgorithm::kAuto);

}  // namespace gatehouse::ai
