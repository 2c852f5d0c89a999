// Exact agreement with tiktoken: tests/fixtures/tokenizer/golden.json holds
// strings and the ids the npm package tiktoken gave for them (written by
// tools/tokenizer/gen_golden.cjs).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fstream>
#include <sstream>

#include "ai/tokenizer/tokenizer_test_util.hpp"

namespace gatehouse::ai {
namespace {

struct GoldenCase {
  std::string name;
  std::string text;
  bool allow_all = false;
  std::vector<uint32_t> o200k;
  std::vector<uint32_t> cl100k;
};

std::vector<uint32_t> ids(const boost::json::value& v) {
  std::vector<uint32_t> out;
  for (const auto& x : v.as_array()) out.push_back(static_cast<uint32_t>(x.as_int64()));
  return out;
}

std::vector<GoldenCase> load_golden() {
  std::string path = std::string(gatehouse_source_dir()) + "/tests/fixtures/tokenizer/golden.json";
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<GoldenCase> out;
  if (!in) return out;
  auto doc = boost::json::parse(ss.str());
  for (const auto& c : doc.at("cases").as_array()) {
    GoldenCase g;
    g.name = std::string(c.at("name").as_string());
    g.text = std::string(c.at("text").as_string());
    g.allow_all = c.at("allowed_special").as_string() == "all";
    g.o200k = ids(c.at("o200k_base"));
    g.cl100k = ids(c.at("cl100k_base"));
    out.push_back(std::move(g));
  }
  return out;
}

const std::vector<GoldenCase>& golden() {
  static const std::vector<GoldenCase> cases = load_golden();
  return cases;
}

std::string show(const std::vector<uint32_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < 40; ++i) s += std::to_string(v[i]) + " ";
  if (v.size() > 40) s += "... (" + std::to_string(v.size()) + " ids)";
  return s;
}

void check_encoding(Encoding e) {
  const Tokenizers* tk = testing::tokenizers_or_fail();
  if (!tk) return;
  ASSERT_GT(golden().size(), 100u) << "tests/fixtures/tokenizer/golden.json missing or short";
  const Tokenizer& t = tk->get(e);
  int failures = 0;
  for (const auto& c : golden()) {
    const auto& want = e == Encoding::kO200kBase ? c.o200k : c.cl100k;
    auto allowed = c.allow_all ? AllowedSpecial::all() : AllowedSpecial::none();
    auto got = t.encode(c.text, allowed);
    if (got != want && ++failures <= 10) {
      ADD_FAILURE() << t.name() << " case " << c.name << "\n  want " << show(want) << "\n  got  "
                    << show(got);
    }
    EXPECT_EQ(t.count(c.text, allowed), want.size()) << c.name;
    auto back = t.decode(got);
    ASSERT_TRUE(back.ok()) << c.name;
    EXPECT_EQ(*back, c.text) << c.name;
  }
  EXPECT_EQ(failures, 0);
}

TEST(TokenizerGolden, O200kBaseMatchesTiktoken) { check_encoding(Encoding::kO200kBase); }
TEST(TokenizerGolden, Cl100kBaseMatchesTiktoken) { check_encoding(Encoding::kCl100kBase); }

}  // namespace
}  // namespace gatehouse::ai
