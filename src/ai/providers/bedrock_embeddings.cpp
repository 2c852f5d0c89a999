// /v1/embeddings on Bedrock: InvokeModel (`POST /model/{modelId}/invoke`,
// SigV4) for Amazon Titan Text Embeddings (v2: {"inputText", "dimensions",
// "normalize"} -> {"embedding", "inputTextTokenCount"}; v1: inputText only),
// one call per input, and Cohere Embed ({"texts", "input_type"} ->
// {"embeddings", "id", "texts"}), one call per 96 texts. The calls run a few
// at a time and their vectors are answered in input order as OpenAI's
// embeddings JSON; the first failing call's answer is the client's (the
// gateway translates Bedrock's {"message"} error shape).
#include <openssl/evp.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstring>

#include "ai/providers/bedrock.hpp"
#include "common/json.hpp"
#include "common/strings.hpp"

namespace gatehouse::ai::providers {

namespace json = boost::json;

namespace {

constexpr size_t kCohereBatch = 96;       // Cohere Embed's texts per call on Bedrock
constexpr size_t kParallel = 8;           // InvokeModel calls in flight per request
constexpr size_t kMaxAnswer = 32u << 20;  // one InvokeModel answer (96 x 1024 floats is ~2 MB)

Error bad_request(std::string message, std::string field) {
  return make_error("invalid_request", std::move(message), std::move(field), 400,
                    ErrorSide::kDownstream);
}

Error bad_answer(std::string message) {
  return make_error("ai_provider_error", "bedrock embeddings: " + std::move(message), {}, 502,
                    ErrorSide::kUpstream);
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

Result<void> read_vector(const json::value& v, std::vector<double>& out) {
  if (!v.is_array()) return bad_answer("an embedding is not an array");
  out.reserve(v.get_array().size());
  for (const auto& x : v.get_array()) {
    if (!x.is_number()) return bad_answer("an embedding holds a non-number");
    out.push_back(x.to_number<double>());
  }
  return Ok{};
}

std::string base64_float32(const std::vector<double>& v) {
  std::string raw(v.size() * 4, '\0');
  for (size_t k = 0; k < v.size(); ++k) {
    float f = static_cast<float>(v[k]);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    for (int b = 0; b < 4; ++b) raw[k * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
  }
  std::string out(4 * ((raw.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()),
                          static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// What the InvokeModel calls of one request share; owned by the calls'
// coroutines too, so an abandoned request cannot leave them dangling.
struct FanOut {
  struct Answer {
    bool done = false;
    Result<int> status = 0;
    std::string body;
    std::string retry_after;
  };
  std::vector<Answer> answers;
  size_t next = 0;
  size_t running = 0;
  bool failed = false;  // stop starting calls once one failed
  std::unique_ptr<asio::steady_timer> all_done;
};

// One runner: takes the next body until none is left or a call failed. All
// runners are on the request's executor, so the shared state needs no lock.
awaitable<void> run_calls(std::shared_ptr<FanOut> st, asio::any_io_executor ex, HttpRequest base,
                          std::shared_ptr<std::vector<std::string>> bodies,
                          std::shared_ptr<const BedrockAuth> auth) {
  while (!st->failed && st->next < bodies->size()) {
    const size_t i = st->next++;
    HttpRequest r = base;
    r.body = std::move((*bodies)[i]);
    auto call = make_signed_call(ex, std::move(r), auth);
    auto& a = st->answers[i];
    a.status = co_await call->start();
    if (a.status) {
      for (;;) {
        auto more = co_await call->read(a.body);
        if (!more) {
          a.status = more.error();
          break;
        }
        if (!*more) break;
        if (a.body.size() > kMaxAnswer) {
          a.status = bad_answer("an answer is larger than 32 MiB");
          break;
        }
      }
      a.retry_after = std::string(call->header("retry-after"));
    }
    a.done = true;
    if (!a.status || *a.status < 200 || *a.status >= 300) st->failed = true;
  }
  if (--st->running == 0) st->all_done->cancel();
}

class EmbeddingsCall final : public Call {
 public:
  EmbeddingsCall(asio::any_io_executor ex, HttpRequest base,
                 std::shared_ptr<const BedrockAuth> auth, EmbeddingsInput in,
                 std::string input_type)
      : ex_(std::move(ex)),
        base_(std::move(base)),
        auth_(std::move(auth)),
        in_(std::move(in)),
        input_type_(std::move(input_type)) {}

  awaitable<Result<int>> start() override {
    const EmbedFamily f = embed_family(in_.model);
    if (f == EmbedFamily::kUnknown)
      co_return local_error(bad_request(
          "bedrock model \"" + in_.model +
              "\" is not an embeddings model Gatehouse speaks (amazon.titan-embed-text-*, "
              "cohere.embed-*)",
          "model"));
    auto bodies = bedrock_embed_bodies(f, in_, input_type_);
    if (!bodies) co_return local_error(bodies.error());
    if (bodies->empty()) co_return local_error(bad_request("no text to embed", "input"));
    base_.path = "/model/" + percent_encode(in_.model) + "/invoke";
    auto st = std::make_shared<FanOut>();
    st->answers.resize(bodies->size());
    st->all_done = std::make_unique<asio::steady_timer>(ex_, asio::steady_timer::time_point::max());
    st->running = std::min(kParallel, bodies->size());
    auto shared_bodies = std::make_shared<std::vector<std::string>>(std::move(bodies.value()));
    for (size_t k = 0, n = st->running; k < n; ++k)
      asio::co_spawn(ex_, run_calls(st, ex_, base_, shared_bodies, auth_), asio::detached);
    // A runner that finished without suspending (no keys) has counted down already.
    if (st->running > 0) co_await st->all_done->async_wait(use_nothrow);

    std::vector<std::vector<double>> vectors;
    int64_t tokens = 0;
    for (auto& a : st->answers) {
      if (!a.done) continue;  // not started: an earlier call failed
      if (!a.status) co_return a.status.error();
      if (*a.status < 200 || *a.status >= 300) {
        body_ = std::move(a.body);
        retry_after_ = std::move(a.retry_after);
        co_return *a.status;
      }
    }
    for (auto& a : st->answers) {
      auto ok = read_bedrock_embed_answer(f, a.body, vectors, tokens);
      if (!ok) co_return ok.error();
    }
    if (f == EmbedFamily::kCohere) tokens = in_.estimated_tokens;
    body_ = openai_embeddings_answer(vectors, in_.model, tokens, in_.base64);
    co_return 200;
  }
  awaitable<Result<bool>> read(std::string& out) override {
    if (sent_) co_return false;
    out += body_;
    sent_ = true;
    co_return true;
  }
  std::string_view header(std::string_view name) const override {
    if (iequals(name, "retry-after")) return retry_after_;
    return {};
  }

 private:
  // Our own refusal, in Bedrock's error shape so the gateway translates it
  // like one of Bedrock's.
  Result<int> local_error(const Error& e) {
    body_ = json::serialize(json::object{{"message", e.message}});
    return e.status;
  }

  asio::any_io_executor ex_;
  HttpRequest base_;
  std::shared_ptr<const BedrockAuth> auth_;
  EmbeddingsInput in_;
  std::string input_type_;
  std::string body_;
  std::string retry_after_;
  bool sent_ = false;
};

}  // namespace

EmbedFamily embed_family(std::string_view id) {
  if (contains(id, "amazon.titan-embed-text-v2")) return EmbedFamily::kTitanV2;
  if (contains(id, "amazon.titan-embed-text-v1") || contains(id, "amazon.titan-embed-g1-text"))
    return EmbedFamily::kTitanV1;
  if (contains(id, "cohere.embed-")) return EmbedFamily::kCohere;
  return EmbedFamily::kUnknown;
}

Result<std::vector<std::string>> bedrock_embed_bodies(EmbedFamily f, const EmbeddingsInput& in,
                                                      std::string_view input_type) {
  if (!in.token_arrays.empty())
    return bad_request("Bedrock embedding models take text, not token arrays", "input");
  std::vector<std::string> out;
  if (f == EmbedFamily::kTitanV1 || f == EmbedFamily::kTitanV2) {
    if (in.dimensions != 0 && f == EmbedFamily::kTitanV1)
      return bad_request("amazon.titan-embed-text-v1 has a fixed size; 'dimensions' is for v2",
                         "dimensions");
    if (in.dimensions != 0 && in.dimensions != 256 && in.dimensions != 512 && in.dimensions != 1024)
      return bad_request("Titan Text Embeddings v2 'dimensions' is 256, 512 or 1024", "dimensions");
    for (const auto& t : in.texts) {
      json::object b{{"inputText", t}};
      if (f == EmbedFamily::kTitanV2) {
        if (in.dimensions != 0) b["dimensions"] = in.dimensions;
        b["normalize"] = true;  // OpenAI's vectors are unit length too
      }
      out.push_back(json::serialize(b));
    }
    return out;
  }
  // Cohere Embed.
  if (in.dimensions != 0)
    return bad_request(
        "Cohere Embed models on Bedrock have a fixed size; "
        "'dimensions' is not supported",
        "dimensions");
  for (size_t i = 0; i < in.texts.size(); i += kCohereBatch) {
    json::array texts;
    for (size_t k = i; k < std::min(in.texts.size(), i + kCohereBatch); ++k)
      texts.emplace_back(in.texts[k]);
    json::object b{{"texts", std::move(texts)},
                   {"input_type", input_type.empty() ? "search_document" : input_type}};
    out.push_back(json::serialize(b));
  }
  return out;
}

Result<void> read_bedrock_embed_answer(EmbedFamily f, std::string_view body,
                                       std::vector<std::vector<double>>& vectors, int64_t& tokens) {
  boost::system::error_code ec;
  json::value v = parse_json(body, ec);
  if (ec || !v.is_object()) return bad_answer("an answer is not a JSON object");
  const json::object& o = v.get_object();
  if (f != EmbedFamily::kCohere) {
    const json::value* e = o.if_contains("embedding");
    if (!e) return bad_answer("a Titan answer has no 'embedding'");
    vectors.emplace_back();
    if (auto r = read_vector(*e, vectors.back()); !r) return r;
    if (const json::value* n = o.if_contains("inputTextTokenCount");
        n && (n->is_int64() || n->is_uint64()))
      tokens += n->to_number<int64_t>();
    return Ok{};
  }
  const json::value* e = o.if_contains("embeddings");
  // embeddings_floats: [[...]]; embeddings_by_type: {"float": [[...]]}.
  if (e && e->is_object()) e = e->get_object().if_contains("float");
  if (!e || !e->is_array()) return bad_answer("a Cohere answer has no float 'embeddings'");
  for (const auto& row : e->get_array()) {
    vectors.emplace_back();
    if (auto r = read_vector(row, vectors.back()); !r) return r;
  }
  return Ok{};
}

std::string openai_embeddings_answer(const std::vector<std::vector<double>>& vectors,
                                     const std::string& model, int64_t prompt_tokens, bool base64) {
  json::array data;
  data.reserve(vectors.size());
  for (size_t i = 0; i < vectors.size(); ++i) {
    json::object e{{"object", "embedding"}, {"index", i}};
    if (base64) {
      e["embedding"] = base64_float32(vectors[i]);
    } else {
      json::array a;
      a.reserve(vectors[i].size());
      for (double x : vectors[i]) a.push_back(x);
      e["embedding"] = std::move(a);
    }
    data.push_back(std::move(e));
  }
  json::object body{
      {"object", "list"},
      {"data", std::move(data)},
      {"model", model},
      {"usage", json::object{{"prompt_tokens", prompt_tokens}, {"total_tokens", prompt_tokens}}}};
  return json::serialize(body);
}

std::unique_ptr<Call> make_bedrock_embeddings(asio::any_io_executor ex, HttpRequest base,
                                              std::shared_ptr<const BedrockAuth> auth,
                                              const EmbeddingsInput& in, std::string input_type) {
  return std::make_unique<EmbeddingsCall>(std::move(ex), std::move(base), std::move(auth), in,
                                          std::move(input_type));
}

}  // namespace gatehouse::ai::providers
