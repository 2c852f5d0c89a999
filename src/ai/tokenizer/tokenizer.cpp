#include "ai/tokenizer/tokenizer.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ai/tokenizer/bpe.hpp"
#include "ai/tokenizer/unicode.hpp"
#include "common/json.hpp"

namespace gatehouse::ai {
namespace {

Error load_error(std::string code, std::string message, std::string field = {}) {
  return make_error(std::move(code), std::move(message), std::move(field), 0, ErrorSide::kConfig);
}

Result<std::string> read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    int err = errno;
    if (err == ENOENT) {
      return load_error("tokenizer_ranks_missing",
                        "tokenizer rank file " + path +
                            " does not exist: run scripts/bootstrap (it installs the npm package "
                            "tiktoken, whose encoders/*.json are the rank files), or point " +
                            kTokenizerDirEnv + " at a folder holding o200k_base.json and "
                            "cl100k_base.json");
    }
    return load_error("tokenizer_ranks_unreadable",
                      "cannot open tokenizer rank file " + path + ": " + std::strerror(err));
  }
  std::string data;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return load_error("tokenizer_ranks_unreadable", "error reading " + path);
  return data;
}

}  // namespace

std::string_view encoding_name(Encoding e) {
  return e == Encoding::kCl100kBase ? "cl100k_base" : "o200k_base";
}

std::optional<Encoding> encoding_from_name(std::string_view name) {
  if (name == "o200k_base") return Encoding::kO200kBase;
  if (name == "cl100k_base") return Encoding::kCl100kBase;
  return std::nullopt;
}

std::string default_tokenizer_dir() {
  return std::string(gatehouse_source_dir()) + "/tools/tokenizer/node_modules/tiktoken/encoders";
}

std::string resolve_tokenizer_dir(std::string_view configured) {
  if (!configured.empty()) return std::string(configured);
  if (const char* env = std::getenv(kTokenizerDirEnv); env && *env) return env;
  return default_tokenizer_dir();
}

bool AllowedSpecial::allows(std::string_view name) const {
  return all_ || std::find(names_.begin(), names_.end(), name) != names_.end();
}

Result<std::shared_ptr<const Tokenizer>> Tokenizer::load(Encoding encoding, std::string_view dir) {
  std::string path = resolve_tokenizer_dir(dir) + "/" + std::string(encoding_name(encoding)) + ".json";
  auto t = load_file(path);
  if (t && (*t)->encoding() != encoding) {
    return load_error("tokenizer_ranks_invalid",
                      path + " holds " + std::string((*t)->name()) + ", not " +
                          std::string(encoding_name(encoding)));
  }
  return t;
}

Result<std::shared_ptr<const Tokenizer>> Tokenizer::load_file(const std::string& path) {
  auto data = read_file(path);
  if (!data) return data.error();
  return from_json(*data, path);
}

Result<std::shared_ptr<const Tokenizer>> Tokenizer::from_json(std::string_view json,
                                                              const std::string& origin) {
  boost::system::error_code ec;
  boost::json::value doc = parse_json(json, ec);
  if (ec || !doc.is_object()) {
    return load_error("tokenizer_ranks_invalid",
                      origin + ": not a JSON object" + (ec ? ": " + ec.message() : ""));
  }
  const auto& obj = doc.get_object();
  const auto* pat = obj.if_contains("pat_str");
  const auto* specials = obj.if_contains("special_tokens");
  const auto* ranks_text = obj.if_contains("bpe_ranks");
  if (!pat || !pat->is_string()) {
    return load_error("tokenizer_ranks_invalid", origin + ": pat_str is missing or not a string",
                      "pat_str");
  }
  if (!ranks_text || !ranks_text->is_string()) {
    return load_error("tokenizer_ranks_invalid",
                      origin + ": bpe_ranks is missing or not a string", "bpe_ranks");
  }
  if (specials && !specials->is_object()) {
    return load_error("tokenizer_ranks_invalid", origin + ": special_tokens is not an object",
                      "special_tokens");
  }
  auto pattern = split_pattern_for_regex(pat->get_string());
  if (!pattern) {
    return load_error("tokenizer_pattern_unsupported",
                      origin + ": its split pattern is neither o200k_base's nor cl100k_base's; "
                               "the pre-tokenizer is hand-written for those two only",
                      "pat_str");
  }
  auto table = RankTable::parse(ranks_text->get_string());
  if (!table) {
    Error e = table.error();
    e.message = origin + ": " + e.message;
    return e;
  }
  std::vector<Special> list;
  if (specials) {
    for (const auto& kv : specials->get_object()) {
      if (!kv.value().is_int64() || kv.value().get_int64() < 0 ||
          kv.value().get_int64() > 0xFFFFFFF) {
        return load_error("tokenizer_ranks_invalid",
                          origin + ": special token " + std::string(kv.key()) +
                              " has no valid id",
                          "special_tokens");
      }
      auto id = static_cast<uint32_t>(kv.value().get_int64());
      if (!table->bytes_of(id).empty()) {
        return load_error("tokenizer_ranks_invalid",
                          origin + ": special token " + std::string(kv.key()) +
                              " reuses rank " + std::to_string(id),
                          "special_tokens");
      }
      list.push_back({std::string(kv.key()), id});
    }
  }
  // Build the Unicode class table now, at start, rather than on the first
  // request a worker tokenizes (65,536 ICU calls).
  (void)unicode::classify(0x4E00);
  Encoding enc = *pattern == SplitPattern::kCl100k ? Encoding::kCl100kBase : Encoding::kO200kBase;
  return std::shared_ptr<const Tokenizer>(
      new Tokenizer(enc, *pattern, std::move(*table), std::move(list)));
}

std::optional<uint32_t> Tokenizer::special_token(std::string_view name) const {
  for (const auto& s : specials_)
    if (s.text == name) return s.id;
  return std::nullopt;
}

template <class Sink>
void Tokenizer::encode_ordinary(std::string_view text, std::vector<uint32_t>& scratch,
                                Sink&& sink) const {
  for_each_piece(pattern_, text, [&](std::string_view piece) {
    // A piece that is itself a token is that token (tiktoken's shortcut, and
    // the case for most words); otherwise merge its bytes.
    if (uint32_t r = ranks_.rank(piece); r != kNoRank) {
      sink(&r, 1);
      return;
    }
    scratch.clear();
    byte_pair_merge(ranks_, piece, scratch);
    sink(scratch.data(), scratch.size());
  });
}

// Splits text at the allowed special tokens (leftmost first, the longest on a
// tie) and encodes the text between them; a piece never spans a special.
template <class Sink>
void Tokenizer::run(std::string_view text, const AllowedSpecial& allowed, Sink&& sink) const {
  std::vector<uint32_t> scratch;
  if (!allowed.any()) {
    encode_ordinary(text, scratch, sink);
    return;
  }
  struct Candidate {
    const Special* special;
    size_t at;  // next occurrence at or after the cursor, npos if none
  };
  std::vector<Candidate> cands;
  for (const auto& s : specials_)
    if (allowed.allows(s.text)) cands.push_back({&s, text.find(s.text)});
  size_t pos = 0;
  for (;;) {
    const Candidate* best = nullptr;
    for (auto& c : cands) {
      if (c.at != std::string_view::npos && c.at < pos) c.at = text.find(c.special->text, pos);
      if (c.at == std::string_view::npos) continue;
      if (!best || c.at < best->at ||
          (c.at == best->at && c.special->text.size() > best->special->text.size())) {
        best = &c;
      }
    }
    if (!best) break;
    encode_ordinary(text.substr(pos, best->at - pos), scratch, sink);
    sink(&best->special->id, 1);
    pos = best->at + best->special->text.size();
  }
  encode_ordinary(text.substr(pos), scratch, sink);
}

std::vector<uint32_t> Tokenizer::encode(std::string_view text,
                                        const AllowedSpecial& allowed) const {
  std::vector<uint32_t> out;
  out.reserve(text.size() / 3 + 1);
  run(text, allowed, [&](const uint32_t* ids, size_t n) { out.insert(out.end(), ids, ids + n); });
  return out;
}

size_t Tokenizer::count(std::string_view text, const AllowedSpecial& allowed) const {
  size_t n = 0;
  run(text, allowed, [&](const uint32_t*, size_t k) { n += k; });
  return n;
}

Result<std::string> Tokenizer::decode(std::span<const uint32_t> tokens) const {
  std::string out;
  for (uint32_t id : tokens) {
    std::string_view b = ranks_.bytes_of(id);
    if (b.empty()) {
      auto it = std::find_if(specials_.begin(), specials_.end(),
                             [id](const Special& s) { return s.id == id; });
      if (it == specials_.end()) {
        return make_error("unknown_token",
                          "token id " + std::to_string(id) + " is not in " + std::string(name()));
      }
      b = it->text;
    }
    out.append(b);
  }
  return out;
}

Result<Tokenizers> Tokenizers::load(std::string_view dir) {
  Tokenizers t;
  auto o = Tokenizer::load(Encoding::kO200kBase, dir);
  if (!o) return o.error();
  auto c = Tokenizer::load(Encoding::kCl100kBase, dir);
  if (!c) return c.error();
  t.o200k_base = std::move(*o);
  t.cl100k_base = std::move(*c);
  return t;
}

}  // namespace gatehouse::ai
