#include "ai/tokenizer/tokenizer.hpp"

#include <gtest/gtest.h>

#include <random>

#include "ai/tokenizer/bpe.hpp"
#include "ai/tokenizer/model_encoding.hpp"
#include "ai/tokenizer/pretokenizer.hpp"
#include "ai/tokenizer/tokenizer_test_util.hpp"

namespace gatehouse::ai {
namespace {

std::vector<std::string> split(SplitPattern p, std::string_view text) {
  std::vector<std::string> out;
  for_each_piece(p, text, [&](std::string_view piece) { out.emplace_back(piece); });
  return out;
}

using V = std::vector<std::string>;

// The splits the regexes give (checked against tiktoken through the golden
// ids); spelled out here because they are the subtle part.
TEST(TokenizerSplit, WhitespaceBeforeAWordLeavesOneSpaceForIt) {
  EXPECT_EQ(split(SplitPattern::kCl100k, "a   b"), (V{"a", "  ", " b"}));
  EXPECT_EQ(split(SplitPattern::kO200k, "a   b"), (V{"a", "  ", " b"}));
  EXPECT_EQ(split(SplitPattern::kCl100k, "end   "), (V{"end", "   "}));
  EXPECT_EQ(split(SplitPattern::kCl100k, "a\t!"), (V{"a", "\t", "!"}));
  EXPECT_EQ(split(SplitPattern::kCl100k, "a\u3000\u3000b"), (V{"a", "\u3000", "\u3000b"}));
}

TEST(TokenizerSplit, NewlinesEndAtTheLastLineBreakOfTheRun) {
  EXPECT_EQ(split(SplitPattern::kCl100k, "x\n\n  y"), (V{"x", "\n\n", " ", " y"}));
  EXPECT_EQ(split(SplitPattern::kO200k, "x \n \n z"), (V{"x", " \n \n", " z"}));
}

TEST(TokenizerSplit, Contractions) {
  EXPECT_EQ(split(SplitPattern::kCl100k, "don't WE'LL"), (V{"don", "'t", " WE", "'LL"}));
  EXPECT_EQ(split(SplitPattern::kO200k, "don't WE'LL"), (V{"don't", " WE'LL"}));
  EXPECT_EQ(split(SplitPattern::kCl100k, "it\u017f'\u017f"), (V{"it\u017f", "'\u017f"}));
}

TEST(TokenizerSplit, O200kSplitsCaseChanges) {
  EXPECT_EQ(split(SplitPattern::kO200k, "HTTPServer camelCase"),
            (V{"HTTPServer", " camel", "Case"}));
  EXPECT_EQ(split(SplitPattern::kCl100k, "HTTPServer camelCase"), (V{"HTTPServer", " camelCase"}));
  // Lo is both upper-ish and lower-ish: the upper-ish run gives back its last
  // character so the lower-ish run can have one.
  EXPECT_EQ(split(SplitPattern::kO200k, "\u4f60\u597dA"), (V{"\u4f60\u597d", "A"}));
}

TEST(TokenizerSplit, NumbersInThrees) {
  EXPECT_EQ(split(SplitPattern::kO200k, "1234567"), (V{"123", "456", "7"}));
}

TEST(TokenizerSplit, O200kKeepsSlashesAndNewlinesAfterSymbols) {
  EXPECT_EQ(split(SplitPattern::kO200k, "!!\n//x"), (V{"!!\n//", "x"}));
  EXPECT_EQ(split(SplitPattern::kCl100k, "!!\n//x"), (V{"!!\n", "//", "x"}));
}

TEST(TokenizerSplit, InvalidUtf8BytesAreSymbols) {
  EXPECT_EQ(split(SplitPattern::kO200k, "a\xff\xfe b"), (V{"a", "\xff\xfe", " b"}));
  EXPECT_EQ(split(SplitPattern::kO200k, "\xe4\xbd"), (V{"\xe4\xbd"}));
}

TEST(TokenizerSplit, RecognisesOnlyTheTwoPatterns) {
  EXPECT_EQ(split_pattern_for_regex(split_regex(SplitPattern::kO200k)), SplitPattern::kO200k);
  EXPECT_EQ(split_pattern_for_regex(split_regex(SplitPattern::kCl100k)), SplitPattern::kCl100k);
  EXPECT_FALSE(split_pattern_for_regex("'s|'t| ?\\p{L}+|\\s+"));
}

TEST(TokenizerApi, EncodeCountDecode) {
  const Tokenizers* tk = testing::tokenizers_or_fail();
  if (!tk) return;
  const Tokenizer& o = tk->get(Encoding::kO200kBase);
  EXPECT_EQ(o.name(), "o200k_base");
  EXPECT_EQ(o.encode("hello world"), (std::vector<uint32_t>{24912, 2375}));
  EXPECT_EQ(o.count("hello world"), 2u);
  EXPECT_EQ(o.encode(""), std::vector<uint32_t>{});
  EXPECT_EQ(o.vocab_size(), 199998u + 2u);
  EXPECT_EQ(tk->get(Encoding::kCl100kBase).vocab_size(), 100256u + 5u);
  EXPECT_EQ(*o.decode(std::vector<uint32_t>{24912, 2375}), "hello world");
  auto bad = o.decode(std::vector<uint32_t>{24912, 250000});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "unknown_token");
  // Invalid UTF-8 still encodes (byte tokens) and round-trips.
  std::string junk = "ok\xff\xc3(\xed\xa0\x80";
  EXPECT_EQ(*o.decode(o.encode(junk)), junk);
}

TEST(TokenizerApi, SpecialTokensOnlyWhenAllowed) {
  const Tokenizers* tk = testing::tokenizers_or_fail();
  if (!tk) return;
  const Tokenizer& c = tk->get(Encoding::kCl100kBase);
  std::string text = "a<|endoftext|>b<|fim_prefix|>";
  auto plain = c.encode(text);
  EXPECT_GT(plain.size(), 4u);
  for (uint32_t id : plain) EXPECT_LT(id, 100256u);
  EXPECT_EQ(c.encode(text, AllowedSpecial::all()),
            (std::vector<uint32_t>{64, 100257, 65, 100258}));
  EXPECT_EQ(c.encode(text, AllowedSpecial::only({"<|fim_prefix|>"})).back(), 100258u);
  EXPECT_EQ(c.encode(text, AllowedSpecial::only({"<|fim_prefix|>"}))[1], 27u);  // "<"
  EXPECT_EQ(c.special_token("<|endofprompt|>"), 100276u);
  EXPECT_EQ(*c.decode(std::vector<uint32_t>{100257}), "<|endoftext|>");
}

// The heap merge must pick exactly what the linear scan picks, including the
// leftmost of equal ranks ("aaaa...").
TEST(TokenizerMerge, HeapAndLinearAgree) {
  const Tokenizers* tk = testing::tokenizers_or_fail();
  if (!tk) return;
  std::mt19937 rng(42);
  const std::vector<std::string> alphabet = {"a", "b", "e", "t", "h", " ", "\xc3\xa9", "\xe4\xbd\xa0", "1", "."};
  for (int round = 0; round < 300; ++round) {
    std::string piece;
    size_t len = 2 + rng() % kLinearMergeMax;
    while (piece.size() + 3 < len) piece += alphabet[rng() % (round % 3 == 0 ? 2 : alphabet.size())];
    for (Encoding e : {Encoding::kO200kBase, Encoding::kCl100kBase}) {
      const RankTable& table = tk->get(e).rank_table();
      std::vector<uint32_t> lin, heap;
      byte_pair_merge(table, piece, lin, MergeAlgorithm::kLinear);
      byte_pair_merge(table, piece, heap, MergeAlgorithm::kHeap);
      ASSERT_EQ(lin, heap) << piece;
    }
  }
}

TEST(TokenizerMerge, LongPiecesStayFast) {
  const Tokenizers* tk = testing::tokenizers_or_fail();
  if (!tk) return;
  // One 256 KiB piece: quadratic merging would take minutes (and this also
  // runs in the sanitizer build).
  std::string big(1 << 18, 'z');
  auto ids = tk->get(Encoding::kO200kBase).encode(big);
  EXPECT_GT(ids.size(), 1000u);
  EXPECT_EQ(*tk->get(Encoding::kO200kBase).decode(ids), big);
}

TEST(TokenizerLoad, MissingFileSaysRunBootstrap) {
  auto t = Tokenizer::load(Encoding::kO200kBase, "/nonexistent/gatehouse");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, "tokenizer_ranks_missing");
  EXPECT_NE(t.error().message.find("/nonexistent/gatehouse/o200k_base.json"), std::string::npos);
  EXPECT_NE(t.error().message.find("scripts/bootstrap"), std::string::npos);
  EXPECT_NE(t.error().message.find(kTokenizerDirEnv), std::string::npos);
}

TEST(TokenizerLoad, ResolvesConfiguredThenEnvThenDefault) {
  EXPECT_EQ(resolve_tokenizer_dir("/x"), "/x");
  ::setenv(kTokenizerDirEnv, "/from/env", 1);
  EXPECT_EQ(resolve_tokenizer_dir(), "/from/env");
  ::unsetenv(kTokenizerDirEnv);
  EXPECT_EQ(resolve_tokenizer_dir(), default_tokenizer_dir());
  EXPECT_NE(default_tokenizer_dir().find("tools/tokenizer/node_modules/tiktoken/encoders"),
            std::string::npos);
}

std::string rank_json(std::string_view pat, std::string_view ranks) {
  std::string j = "{\"pat_str\":\"";
  for (char ch : pat) {
    if (ch == '\\' || ch == '"') j += '\\';
    j += ch;
  }
  return j + "\",\"special_tokens\":{\"<|end|>\":300},\"bpe_ranks\":\"" + std::string(ranks) + "\"}";
}

std::string byte_b64(int b) {
  static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  return std::string{b64[b >> 2], b64[(b & 3) << 4], '=', '='};
}

// All 256 single bytes, then "ab" at 256: the compact layout (one line)...
std::string all_bytes_compact() {
  std::string s = "! 0";
  for (int b = 0; b < 256; ++b) s += " " + byte_b64(b);
  return s + " YWI=";
}

// ... and the classic one (a line per rank).
std::string all_bytes_classic() {
  std::string s;
  for (int b = 0; b < 256; ++b) s += byte_b64(b) + " " + std::to_string(b) + "\n";
  return s + "YWI= 256\n";
}

TEST(TokenizerLoad, ParsesBothRankLayouts) {
  std::string pat(split_regex(SplitPattern::kO200k));
  auto t = Tokenizer::from_json(rank_json(pat, all_bytes_compact()), "test");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ((*t)->encode("ab"), std::vector<uint32_t>{256});
  EXPECT_EQ((*t)->encode("<|end|>", AllowedSpecial::all()), std::vector<uint32_t>{300});

  auto classic = RankTable::parse(all_bytes_classic());
  ASSERT_TRUE(classic.ok()) << classic.error().message;
  EXPECT_EQ(classic->rank("ab"), 256u);
  EXPECT_EQ(classic->bytes_of(256), "ab");
  EXPECT_EQ(classic->rank("abc"), kNoRank);

  auto partial = RankTable::parse("YQ== 0\nYg== 1\nYWI= 7\n");
  ASSERT_FALSE(partial.ok());  // BPE needs every single byte
  EXPECT_NE(partial.error().message.find("byte 0 has no rank"), std::string::npos);
}

TEST(TokenizerLoad, PreciseErrors) {
  std::string pat(split_regex(SplitPattern::kCl100k));
  auto unsupported = Tokenizer::from_json(rank_json("\\\\s+", all_bytes_compact()), "f.json");
  ASSERT_FALSE(unsupported.ok());
  EXPECT_EQ(unsupported.error().code, "tokenizer_pattern_unsupported");
  EXPECT_EQ(unsupported.error().field, "pat_str");

  auto b64 = Tokenizer::from_json(rank_json(pat, "! 0 YQ== Y*==="), "f.json");
  ASSERT_FALSE(b64.ok());
  EXPECT_NE(b64.error().message.find("bad base64 token 'Y*==='"), std::string::npos)
      << b64.error().message;

  auto dup = RankTable::parse("YQ== 0\nYQ== 1\n");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("same bytes"), std::string::npos);

  auto not_json = Tokenizer::from_json("{", "f.json");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().code, "tokenizer_ranks_invalid");
}

TEST(TokenizerModels, EncodingForModel) {
  auto enc = [](std::string_view m) { return encoding_for_model(m).encoding; };
  auto known = [](std::string_view m) { return encoding_for_model(m).known; };
  for (auto m : {"gpt-4o", "gpt-4o-mini-2024-07-18", "gpt-4.1", "gpt-4.1-nano", "o1", "o1-mini",
                 "o3", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5.1", "chatgpt-4o-latest",
                 "ft:gpt-4o-mini-2024-07-18:org::abc", "openai/gpt-4.1", "gpt-4.5-preview"}) {
    EXPECT_EQ(enc(m), Encoding::kO200kBase) << m;
    EXPECT_TRUE(known(m)) << m;
  }
  for (auto m : {"gpt-4", "gpt-4-0613", "gpt-4-turbo", "gpt-4-32k", "gpt-3.5-turbo",
                 "gpt-3.5-turbo-16k", "gpt-35-turbo", "text-embedding-3-small",
                 "text-embedding-3-large", "text-embedding-ada-002", "ft:gpt-3.5-turbo:org::x"}) {
    EXPECT_EQ(enc(m), Encoding::kCl100kBase) << m;
    EXPECT_TRUE(known(m)) << m;
  }
  for (auto m : {"", "my-azure-deployment", "claude-sonnet-4", "o10", "gpt-4.7", "davinci"}) {
    EXPECT_EQ(enc(m), Encoding::kO200kBase) << m;
    EXPECT_FALSE(known(m)) << m;
  }
}

}  // namespace
}  // namespace gatehouse::ai
