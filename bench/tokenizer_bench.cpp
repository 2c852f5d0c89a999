// Tokenizer microbenchmarks: encode throughput (tokens/s and bytes/s) on
// English prose, C++ code and Chinese text under both encodings, and the time
// to load a rank file (JSON parse, base64, hash table). Needs the rank files
// (scripts/bootstrap). Built by CMake as build/tokenizer_bench.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "ai/tokenizer/tokenizer.hpp"

namespace gatehouse::ai {
namespace {

// Written for this benchmark; repeated to ~64 KiB so per-call overhead vanishes.
constexpr const char* kProse =
    "When the gateway receives a request for a language model, it has to decide quickly whether "
    "the caller still has budget left. Counting the prompt's tokens before the request leaves "
    "makes that possible: a quota can refuse an oversized prompt instead of paying for it. The "
    "count need not be perfect for every provider, but for OpenAI's models it can be exact, "
    "because their tokenizers are public. Operators told us they'd rather see an honest estimate "
    "than none at all, so Anthropic requests get one too, clearly marked as such.\n\n"
    "Throughput matters as well. A busy node may see thousands of chat requests per second, each "
    "carrying a few kilobytes of conversation history; if tokenizing took longer than proxying, "
    "the feature would not be worth its cost. That's why the pre-tokenizer scans code points by "
    "hand, and why most words are found in one hash lookup without merging at all.\n\n";

constexpr const char* kCode =
    "template <class Sink>\n"
    "void Tokenizer::run(std::string_view text, const AllowedSpecial& allowed, Sink&& sink) const {\n"
    "  std::vector<uint32_t> scratch;\n"
    "  for (size_t pos = 0; pos < text.size();) {\n"
    "    size_t end = next_piece(pattern_, text, pos);  // one regex match\n"
    "    if (auto r = ranks_.rank(text.substr(pos, end - pos)); r != kNoRank) {\n"
    "      sink(&r, 1);\n"
    "    } else {\n"
    "      scratch.clear();\n"
    "      byte_pair_merge(ranks_, text.substr(pos, end - pos), scratch);\n"
    "      sink(scratch.data(), scratch.size());\n"
    "    }\n"
    "    pos = end;\n"
    "  }\n"
    "}\n\n"
    "def handler(event, context):\n"
    "    items = [x * 2 for x in event.get('items', []) if x % 3 != 0]\n"
    "    return {\"statusCode\": 200, \"body\": json.dumps({\"items\": items, \"n\": len(items)})}\n\n";

constexpr const char* kChinese =
    "网关在收到大模型请求时，需要快速判断调用方是否还有剩余额度。在请求发出之前统计提示词的词元数量，"
    "就可以拒绝过大的提示，而不是为它付费。对于公开了分词器的模型，这个数字可以做到精确。\n";

std::string repeat_to(const char* unit, size_t size) {
  std::string s;
  while (s.size() < size) s += unit;
  return s;
}

const Tokenizers& tokenizers() {
  static const Result<Tokenizers> t = Tokenizers::load();
  if (!t) {
    std::fprintf(stderr, "tokenizer_bench: %s\n", t.error().message.c_str());
    std::exit(1);
  }
  return *t;
}

void encode_bench(benchmark::State& state, Encoding e, const char* unit) {
  const Tokenizer& t = tokenizers().get(e);
  std::string text = repeat_to(unit, 64 * 1024);
  size_t tokens = 0;
  for (auto _ : state) {
    auto ids = t.encode(text);
    tokens += ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens),
                                                  benchmark::Counter::kIsRate);
  state.counters["bytes/token"] =
      static_cast<double>(text.size()) * static_cast<double>(state.iterations()) /
      static_cast<double>(tokens);
}

void count_bench(benchmark::State& state, Encoding e, const char* unit) {
  const Tokenizer& t = tokenizers().get(e);
  std::string text = repeat_to(unit, 64 * 1024);
  size_t tokens = 0;
  for (auto _ : state) tokens += t.count(text);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens),
                                                  benchmark::Counter::kIsRate);
}

void load_bench(benchmark::State& state, Encoding e) {
  std::string dir = resolve_tokenizer_dir();
  for (auto _ : state) {
    auto t = Tokenizer::load(e, dir);
    if (!t) {
      state.SkipWithError(t.error().message.c_str());
      return;
    }
    benchmark::DoNotOptimize(t->get());
  }
}

BENCHMARK_CAPTURE(encode_bench, o200k_prose, Encoding::kO200kBase, kProse);
BENCHMARK_CAPTURE(encode_bench, cl100k_prose, Encoding::kCl100kBase, kProse);
BENCHMARK_CAPTURE(encode_bench, o200k_code, Encoding::kO200kBase, kCode);
BENCHMARK_CAPTURE(encode_bench, cl100k_code, Encoding::kCl100kBase, kCode);
BENCHMARK_CAPTURE(encode_bench, o200k_chinese, Encoding::kO200kBase, kChinese);
BENCHMARK_CAPTURE(encode_bench, cl100k_chinese, Encoding::kCl100kBase, kChinese);
BENCHMARK_CAPTURE(count_bench, o200k_prose, Encoding::kO200kBase, kProse);
BENCHMARK_CAPTURE(load_bench, o200k_base, Encoding::kO200kBase)
    ->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK_CAPTURE(load_bench, cl100k_base, Encoding::kCl100kBase)
    ->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
}  // namespace gatehouse::ai

BENCHMARK_MAIN();
