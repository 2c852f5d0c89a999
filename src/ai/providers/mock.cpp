// The built-in mock provider: deterministic answers for demos, tests and load
// tests. It speaks OpenAI Chat (JSON or SSE) so the gateway translates it like
// any provider. The reply is `mock.reply`, or else the last user message
// echoed back. Latency before the first byte and the streaming pace
// (tokens_per_second, one word per delta) are configurable. Usage counts come
// from the o200k_base tokenizer when its rank file is installed, else from a
// word count (words of the text, at least 1).
#include <openssl/evp.h>

#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstring>
#include <chrono>
#include <deque>

#include "ai/providers/provider.hpp"
#include "ai/tokenizer/tokenizer.hpp"
#include "ai/translate/stream.hpp"
#include "ai/translate/translate.hpp"

namespace gatehouse::ai::providers {
namespace {

const Tokenizer* o200k() {
  static const std::shared_ptr<const Tokenizer> tk = [] {
    auto t = Tokenizer::load(Encoding::kO200kBase);
    return t ? t.value() : std::shared_ptr<const Tokenizer>();
  }();
  return tk.get();
}

int64_t count_tokens(std::string_view text) {
  if (const Tokenizer* tk = o200k()) return static_cast<int64_t>(tk->count(text));
  int64_t words = 0;
  bool in_word = false;
  for (char c : text) {
    bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

std::string text_of(const Message& m) {
  std::string out;
  for (const auto& p : m.parts) {
    if (p.kind == PartKind::kText) out += p.text;
    if (p.kind == PartKind::kToolResult)
      for (const auto& c : p.content)
        if (c.kind == PartKind::kText) out += c.text;
  }
  return out;
}

std::atomic<uint64_t> g_mock_ids{0};

class MockCall final : public Call {
 public:
  MockCall(asio::any_io_executor ex, const config::LlmMockConfig& cfg, const Request& ir)
      : timer_(ex), cfg_(cfg), stream_(ir.stream) {
    MockAnswer a = mock_answer(cfg, ir);
    Response r;
    r.id = "chatcmpl-mock" + std::to_string(++g_mock_ids);
    r.model = ir.model;
    r.created = 1700000000;
    r.stop = StopReason::kEndTurn;
    r.usage.input_uncached = a.input_tokens;
    r.usage.output = a.output_tokens;
    r.usage.known = true;
    if (!stream_) {
      Part p;
      p.text = a.text;
      r.content.push_back(std::move(p));
      frames_.push_back(write_response(Format::kChat, r, {}));
      return;
    }
    EncoderOptions eo;
    eo.include_usage = true;
    eo.created = r.created;
    auto enc = make_encoder(Format::kChat, eo);
    auto emit = [&](StreamEvent e, bool paced) {
      std::string out;
      enc->encode(e, out);
      if (out.empty()) return;
      frames_.push_back(std::move(out));
      paced_.push_back(paced);
    };
    StreamEvent start;
    start.kind = EventKind::kStart;
    start.id = r.id;
    start.model = r.model;
    start.usage = r.usage;
    start.usage.output = 0;
    emit(start, false);
    StreamEvent bs;
    bs.kind = EventKind::kBlockStart;
    bs.part = PartKind::kText;
    emit(bs, false);
    for (const auto& piece : a.pieces) {
      StreamEvent d;
      d.kind = EventKind::kDelta;
      d.delta = DeltaKind::kText;
      d.text = piece;
      emit(std::move(d), true);
    }
    StreamEvent be;
    be.kind = EventKind::kBlockStop;
    emit(be, false);
    StreamEvent stop;
    stop.kind = EventKind::kStop;
    stop.stop = StopReason::kEndTurn;
    emit(stop, false);
    StreamEvent u;
    u.kind = EventKind::kUsage;
    u.usage = r.usage;
    emit(u, false);
    StreamEvent end;
    end.kind = EventKind::kEnd;
    emit(end, false);
  }

  awaitable<Result<int>> start() override {
    // The first body byte follows the latency: a first-byte timeout below it
    // fails the call after the timeout, as it would against a slow provider.
    if (first_byte_timeout_ms_ > 0 && cfg_.latency_ms > first_byte_timeout_ms_) {
      co_await sleep_ms(first_byte_timeout_ms_);
      co_return make_error(
          "first_token_timeout",
          "the mock sent no token within " + std::to_string(first_byte_timeout_ms_) + " ms", "",
          504, ErrorSide::kUpstream);
    }
    if (cfg_.latency_ms > 0) co_await sleep_ms(cfg_.latency_ms);
    co_return 200;
  }

  awaitable<Result<bool>> read(std::string& out) override {
    if (frames_.empty()) co_return false;
    if (cfg_.tokens_per_second <= 0) {
      // Unpaced: the whole stream in one read, as a provider's answer that
      // is already complete arrives (one write to the client, not one per frame).
      for (auto& f : frames_) out += f;
      frames_.clear();
      paced_.clear();
      co_return true;
    }
    bool paced = !paced_.empty() && paced_.front();
    if (paced && cfg_.tokens_per_second > 0)
      co_await sleep_ms(static_cast<int64_t>(1000.0 / cfg_.tokens_per_second));
    out += frames_.front();
    frames_.pop_front();
    if (!paced_.empty()) paced_.pop_front();
    co_return true;
  }

 private:
  awaitable<void> sleep_ms(int64_t ms) {
    timer_.expires_after(std::chrono::milliseconds(ms));
    co_await timer_.async_wait(use_nothrow);
  }

  asio::steady_timer timer_;
  config::LlmMockConfig cfg_;
  bool stream_;
  std::deque<std::string> frames_;
  std::deque<bool> paced_;
};

// A whole JSON answer after the configured latency (embeddings).
class FixedCall final : public Call {
 public:
  FixedCall(asio::any_io_executor ex, int64_t latency_ms, std::string body)
      : timer_(ex), latency_ms_(latency_ms), body_(std::move(body)) {}
  awaitable<Result<int>> start() override {
    if (latency_ms_ > 0) {
      timer_.expires_after(std::chrono::milliseconds(latency_ms_));
      co_await timer_.async_wait(use_nothrow);
    }
    co_return 200;
  }
  awaitable<Result<bool>> read(std::string& out) override {
    if (done_) co_return false;
    out += body_;
    done_ = true;
    co_return true;
  }

 private:
  asio::steady_timer timer_;
  int64_t latency_ms_;
  std::string body_;
  bool done_ = false;
};

class Mock final : public Provider {
 public:
  explicit Mock(const config::LlmProviderConfig& cfg) : Provider(cfg) {
    o200k();  // load the rank file now (control thread), not on a worker
  }
  Format format() const override { return Format::kChat; }
  std::unique_ptr<Call> call(asio::any_io_executor ex, const Request& ir,
                             std::string) const override {
    return std::make_unique<MockCall>(ex, cfg_.mock, ir);
  }
  std::unique_ptr<Call> embeddings(asio::any_io_executor ex, std::string,
                                   const EmbeddingsInput& in) const override {
    return std::make_unique<FixedCall>(ex, cfg_.mock.latency_ms, mock_embeddings(in));
  }
};

}  // namespace

MockAnswer mock_answer(const config::LlmMockConfig& cfg, const Request& ir) {
  MockAnswer a;
  std::string prompt;
  std::string last_user;
  for (const auto& m : ir.messages) {
    std::string t = text_of(m);
    prompt += t;
    prompt += '\n';
    if (m.role == Role::kUser && !t.empty()) last_user = t;
  }
  a.text = !cfg.reply.empty()   ? cfg.reply
           : !last_user.empty() ? last_user
                                : std::string("Hello from the Gatehouse mock provider.");
  a.input_tokens = std::max<int64_t>(1, count_tokens(prompt));
  a.output_tokens = std::max<int64_t>(1, count_tokens(a.text));
  // One delta per word, each keeping the spaces that follow it.
  size_t i = 0;
  while (i < a.text.size()) {
    size_t j = a.text.find_first_of(" \n", i);
    j = j == std::string::npos ? a.text.size() : a.text.find_first_not_of(" \n", j);
    if (j == std::string::npos) j = a.text.size();
    a.pieces.push_back(a.text.substr(i, j - i));
    i = j;
  }
  return a;
}

std::unique_ptr<Provider> make_mock(const config::LlmProviderConfig& cfg) {
  return std::make_unique<Mock>(cfg);
}

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t fnv1a(std::string_view s, uint64_t h = 0xcbf29ce484222325ULL) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

}  // namespace

std::vector<float> mock_embedding(std::string_view seed_text, int64_t dimensions) {
  std::vector<float> v(static_cast<size_t>(dimensions));
  uint64_t state = fnv1a(seed_text);
  double norm = 0;
  for (auto& x : v) {
    // Uniform in [-1, 1), then normalised: unit vectors, as OpenAI's are.
    x = static_cast<float>(static_cast<double>(splitmix64(state) >> 11) / 9007199254740992.0 * 2 -
                           1);
    norm += static_cast<double>(x) * x;
  }
  norm = std::sqrt(norm);
  if (norm > 0)
    for (auto& x : v) x = static_cast<float>(x / norm);
  return v;
}

std::string mock_embeddings(const EmbeddingsInput& in) {
  namespace json = boost::json;
  const int64_t dims = in.dimensions > 0 ? in.dimensions : kMockEmbeddingDimensions;
  std::vector<std::string> seeds = in.texts;
  for (const auto& toks : in.token_arrays) {
    std::string s = "tokens:";
    for (int64_t t : toks) s += std::to_string(t) + ",";
    seeds.push_back(std::move(s));
  }
  int64_t tokens = 0;
  for (const auto& t : in.texts) tokens += count_tokens(t);
  for (const auto& a : in.token_arrays) tokens += static_cast<int64_t>(a.size());
  json::array data;
  for (size_t i = 0; i < seeds.size(); ++i) {
    std::vector<float> v = mock_embedding(seeds[i], dims);
    json::object e{{"object", "embedding"}, {"index", i}};
    if (in.base64) {
      // Little-endian float32, as OpenAI sends (and the SDKs decode).
      std::string raw(v.size() * 4, '\0');
      for (size_t k = 0; k < v.size(); ++k) {
        uint32_t bits;
        std::memcpy(&bits, &v[k], 4);
        for (int b = 0; b < 4; ++b) raw[k * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
      }
      std::string b64(4 * ((raw.size() + 2) / 3), '\0');
      int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                              reinterpret_cast<const unsigned char*>(raw.data()),
                              static_cast<int>(raw.size()));
      b64.resize(static_cast<size_t>(n));
      e["embedding"] = b64;
    } else {
      json::array a;
      a.reserve(v.size());
      for (float x : v) a.push_back(static_cast<double>(x));
      e["embedding"] = std::move(a);
    }
    data.push_back(std::move(e));
  }
  json::object body{{"object", "list"},
                    {"data", std::move(data)},
                    {"model", in.model},
                    {"usage", json::object{{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
  return json::serialize(body);
}

}  // namespace gatehouse::ai::providers
