#include "ai/tokenizer/bpe.hpp"

#include <array>
#include <cstddef>
#include <functional>
#include <queue>

namespace gatehouse::ai {
namespace {

// bounds[0..m] are the part boundaries (part k is [bounds[k], bounds[k+1]));
// pair[k] is the rank of parts k and k+1 merged, part[k] the rank of part k
// (kept, not looked up again at the end). All live on the stack: the common
// piece is a few bytes, and an allocation would cost more than the merge.
void merge_linear(const RankTable& ranks, std::string_view piece, std::vector<uint32_t>& out) {
  std::array<uint32_t, kLinearMergeMax + 1> bounds;
  std::array<uint32_t, kLinearMergeMax> pair;
  std::array<uint32_t, kLinearMergeMax> part;
  size_t m = piece.size();  // number of parts
  for (size_t k = 0; k <= m; ++k) bounds[k] = static_cast<uint32_t>(k);
  for (size_t k = 0; k < m; ++k) part[k] = ranks.byte_rank(static_cast<unsigned char>(piece[k]));
  auto pair_rank = [&](size_t k) {
    if (k + 2 > m) return kNoRank;
    return ranks.rank(piece.substr(bounds[k], bounds[k + 2] - bounds[k]));
  };
  for (size_t k = 0; k + 1 < m; ++k) pair[k] = pair_rank(k);
  while (m > 1) {
    size_t best = 0;
    for (size_t k = 1; k + 1 < m; ++k) {
      if (pair[k] < pair[best]) best = k;  // strict: the leftmost wins a tie
    }
    if (pair[best] == kNoRank) break;
    // Parts best and best+1 become one: drop boundary best+1 and pair best+1.
    part[best] = pair[best];
    for (size_t k = best + 1; k < m; ++k) bounds[k] = bounds[k + 1];
    for (size_t k = best + 1; k + 1 < m; ++k) part[k] = part[k + 1];
    for (size_t k = best + 1; k + 2 < m; ++k) pair[k] = pair[k + 1];
    --m;
    pair[best] = pair_rank(best);
    if (best > 0) pair[best - 1] = pair_rank(best - 1);
  }
  out.insert(out.end(), part.begin(), part.begin() + static_cast<ptrdiff_t>(m));
}

// Parts are a linked list keyed by their start byte; cur[s] is the rank of the
// part at s merged with its successor. A heap entry (rank, s) is stale once
// cur[s] differs: the pair at s only ever grows, and different bytes have
// different ranks, so an equal rank means the very same pair. Ordering the heap
// by (rank, start) pops exactly what the linear scan would pick.
void merge_heap(const RankTable& ranks, std::string_view piece, std::vector<uint32_t>& out) {
  const auto n = static_cast<uint32_t>(piece.size());
  std::vector<uint32_t> next(n), prev(n), cur(n, kNoRank), part(n);
  using Entry = uint64_t;  // rank << 32 | start
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
  auto rank_of = [&](uint32_t s, uint32_t end) { return ranks.rank(piece.substr(s, end - s)); };
  for (uint32_t s = 0; s < n; ++s) {
    next[s] = s + 1;
    prev[s] = s - 1;  // wraps for s == 0; never read there
    part[s] = ranks.byte_rank(static_cast<unsigned char>(piece[s]));
  }
  std::vector<Entry> initial;
  initial.reserve(n);
  for (uint32_t s = 0; s + 1 < n; ++s) {
    cur[s] = rank_of(s, s + 2);
    if (cur[s] != kNoRank) initial.push_back(Entry(cur[s]) << 32 | s);
  }
  heap = decltype(heap)(std::greater<Entry>(), std::move(initial));
  while (!heap.empty()) {
    Entry e = heap.top();
    heap.pop();
    auto r = static_cast<uint32_t>(e >> 32);
    auto s = static_cast<uint32_t>(e);
    if (cur[s] != r) continue;
    uint32_t t = next[s];  // the part merged into s
    uint32_t u = next[t];
    next[s] = u;
    part[s] = r;
    if (u < n) prev[u] = s;
    cur[t] = kNoRank;
    cur[s] = u < n ? rank_of(s, next[u]) : kNoRank;
    if (cur[s] != kNoRank) heap.push(Entry(cur[s]) << 32 | s);
    if (s > 0) {
      uint32_t p = prev[s];
      cur[p] = rank_of(p, u);
      if (cur[p] != kNoRank) heap.push(Entry(cur[p]) << 32 | p);
    }
  }
  for (uint32_t s = 0; s < n; s = next[s]) out.push_back(part[s]);
}

}  // namespace

void byte_pair_merge(const RankTable& ranks, std::string_view piece, std::vector<uint32_t>& out,
                     MergeAlgorithm algorithm) {
  if (piece.empty()) return;
  if (algorithm == MergeAlgorithm::kAuto) {
    algorithm = piece.size() <= kLinearMergeMax ? MergeAlgorithm::kLinear : MergeAlgorithm::kHeap;
  }
  if (algorithm == MergeAlgorithm::kLinear && piece.size() <= kLinearMergeMax) {
    merge_linear(ranks, piece, out);
  } else {
    merge_heap(ranks, piece, out);
  }
}

}  // namespace gatehouse::ai
