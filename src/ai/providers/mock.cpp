// The built-in mock provider: deterministic answers for demos, tests and load
// tests. It speaks OpenAI Chat (JSON or SSE) so the gateway translates it like
// any provider. The reply is `mock.reply`, or else the last user message
// echoed back. Latency before the first byte and the streaming pace
// (tokens_per_second, one word per delta) are configurable. Usage counts come
// from the o200k_base tokenizer when its rank file is installed, else from a
// word count (words of the text, at least 1).
#include <atomic>
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
    if (cfg_.latency_ms > 0) co_await sleep_ms(cfg_.latency_ms);
    co_return 200;
  }

  awaitable<Result<bool>> read(std::string& out) override {
    if (frames_.empty()) co_return false;
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

}  // namespace gatehouse::ai::providers
