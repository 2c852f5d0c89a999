#include "ai/tokenizer/rank_table.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace gatehouse::ai {
namespace {

constexpr std::array<int8_t, 256> make_b64_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr auto kB64 = make_b64_table();

// Standard base64 with '=' padding, as the rank files use.
bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 != 0) return false;
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char ch = in[i + k];
      if (ch == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad) return false;  // data after padding
      v[k] = kB64[static_cast<unsigned char>(ch)];
      if (v[k] < 0) return false;
    }
    uint32_t n = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | v[3];
    out.push_back(static_cast<char>(n >> 16));
    if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xFF));
  }
  return true;
}

Error invalid(std::string message) {
  return make_error("tokenizer_ranks_invalid", std::move(message), "bpe_ranks", 0,
                    ErrorSide::kConfig);
}

// Ranks beyond this are not a real vocabulary (o200k has 200k); refusing them
// keeps a corrupt file from sizing the offset table to gigabytes.
constexpr uint64_t kMaxRank = 16u << 20;

}  // namespace

uint64_t RankTable::hash(std::string_view s) {
  if (s.size() <= 8) return mix(pack_short(s.data(), s.size()), s.size());
  // Longer keys: eight bytes per step, then the tail as one packed word.
  const char* p = s.data();
  size_t n = s.size();
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 31;
  }
  return mix(h ^ pack_short(p, n), s.size());
}

Result<void> RankTable::add(std::string_view b64, uint64_t rank, size_t line) {
  std::string bytes;
  if (!base64_decode(b64, bytes) || bytes.empty()) {
    return invalid("bad base64 token '" + std::string(b64.substr(0, 40)) + "' on line " +
                   std::to_string(line));
  }
  if (rank > kMaxRank) {
    return invalid("rank " + std::to_string(rank) + " on line " + std::to_string(line) +
                   " is beyond " + std::to_string(kMaxRank));
  }
  pending_.emplace_back(static_cast<uint32_t>(rank), std::move(bytes));
  return Ok{};
}

Result<RankTable> RankTable::parse(std::string_view text) {
  RankTable t;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    auto next_field = [&line]() {
      size_t sp = line.find(' ');
      std::string_view f = line.substr(0, sp);
      line = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
      return f;
    };
    auto parse_rank = [](std::string_view f, uint64_t& out) {
      auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), out);
      return ec == std::errc() && p == f.data() + f.size() && !f.empty();
    };
    std::string_view first = next_field();
    uint64_t rank = 0;
    if (first == "!") {
      if (!parse_rank(next_field(), rank)) {
        return invalid("line " + std::to_string(line_no) + ": expected '! <first-rank>'");
      }
      while (!line.empty()) {
        if (auto r = t.add(next_field(), rank++, line_no); !r) return r.error();
      }
    } else {
      if (!parse_rank(next_field(), rank) || !line.empty()) {
        return invalid("line " + std::to_string(line_no) + ": expected '<base64> <rank>'");
      }
      if (auto r = t.add(first, rank, line_no); !r) return r.error();
    }
  }
  if (auto r = t.finish(); !r) return r.error();
  return t;
}

Result<void> RankTable::finish() {
  if (pending_.empty()) return invalid("no ranks");
  std::sort(pending_.begin(), pending_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < pending_.size(); ++i) {
    if (pending_[i].first == pending_[i - 1].first) {
      return invalid("rank " + std::to_string(pending_[i].first) + " appears twice");
    }
  }
  uint32_t max = pending_.back().first;
  offsets_.assign(size_t(max) + 2, 0);
  size_t total = 0;
  for (const auto& p : pending_) total += p.second.size();
  blob_.reserve(total);
  // Ranks missing from a classic file get an empty span (bytes_of returns "").
  size_t k = 0;
  for (uint32_t r = 0; r <= max; ++r) {
    offsets_[r] = static_cast<uint32_t>(blob_.size());
    if (k < pending_.size() && pending_[k].first == r) blob_ += pending_[k++].second;
  }
  offsets_[size_t(max) + 1] = static_cast<uint32_t>(blob_.size());
  count_ = pending_.size();
  pending_.clear();
  pending_.shrink_to_fit();

  // Load factor at most 1/2 keeps linear probes short.
  size_t cap = 1;
  while (cap < count_ * 2) cap <<= 1;
  slots_.assign(cap, Slot{});
  for (uint32_t r = 0; r <= max; ++r) {
    std::string_view b = bytes_of(r);
    if (b.empty()) continue;
    uint64_t h = hash(b);
    size_t i = h & (cap - 1);
    for (; slots_[i].rank != kNoRank; i = (i + 1) & (cap - 1)) {
      if (bytes_of(slots_[i].rank) == b) {
        return invalid("ranks " + std::to_string(slots_[i].rank) + " and " + std::to_string(r) +
                       " have the same bytes");
      }
    }
    uint64_t key = b.size() <= 8 ? pack_short(b.data(), b.size()) : h;
    slots_[i] = Slot{key, r, static_cast<uint32_t>(b.size())};
  }
  for (int b = 0; b < 256; ++b) {
    char c = static_cast<char>(b);
    byte_ranks_[b] = rank(std::string_view(&c, 1));
    if (byte_ranks_[b] == kNoRank) {
      return invalid("byte " + std::to_string(b) + " has no rank; BPE needs all 256");
    }
  }
  return Ok{};
}

}  // namespace gatehouse::ai
