#include "ai/providers/http_call.hpp"

#include <array>
#include <boost/asio/connect.hpp>

#include "common/clock.hpp"
#include "net/http1/parser.hpp"

namespace gatehouse::ai::providers {

std::string join_api_path(const std::string& prefix, std::string_view api_path) {
  std::string_view p = prefix;
  if (p.size() >= 3 && p.substr(p.size() - 3) == "/v1" && api_path.substr(0, 4) == "/v1/")
    api_path.remove_prefix(3);
  std::string out(p);
  out += api_path;
  return out;
}

namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxHead = 64 * 1024;

class HttpCall final : public Call {
 public:
  HttpCall(asio::any_io_executor ex, HttpRequest req)
      : req_(std::move(req)),
        sock_(ex),
        timer_(ex),
        resolver_(ex),
        watch_(std::make_shared<Watch>()) {
    watch_->sock = &sock_;
  }
  ~HttpCall() override {
    watch_->sock = nullptr;
    timer_.cancel();
    boost::system::error_code ec;
    sock_.close(ec);
  }

  awaitable<Result<int>> start() override {
    start_ms_ = steady_ms();
    arm(req_.timeouts.connect_ms);
    auto [rec, results] =
        co_await resolver_.async_resolve(req_.url.host, std::to_string(req_.url.port), use_nothrow);
    if (rec || results.empty())
      co_return fail("provider_unreachable", "cannot resolve " + req_.url.host);
    auto [cec, ep] = co_await asio::async_connect(sock_, results, use_nothrow);
    if (cec)
      co_return fail("provider_unreachable",
                     "cannot connect to " + endpoint_text() + ": " + cec.message());
    boost::system::error_code ig;
    peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    sock_.set_option(tcp::no_delay(true), ig);

    std::string head = "POST " + join_api_path(req_.url.prefix, req_.path) + " HTTP/1.1\r\nHost: ";
    head += req_.url.host;
    if (req_.url.port != 80) head += ":" + std::to_string(req_.url.port);
    head += "\r\nContent-Type: application/json\r\nContent-Length: ";
    head += std::to_string(req_.body.size());
    head += "\r\nConnection: close\r\n";
    for (const auto& [n, v] : req_.headers) head += n + ": " + v + "\r\n";
    head += "\r\n";
    arm(req_.timeouts.idle_ms);
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(req_.body)};
    auto [wec, wn] = co_await asio::async_write(sock_, bufs, use_nothrow);
    if (wec)
      co_return fail("provider_write_failed", "sending to the provider failed: " + wec.message());

    for (;;) {
      http1::ParseError perr;
      http1::Limits lim;
      lim.max_header_bytes = kMaxHead;
      auto st = http1::parse_response_head(buf_, lim, "POST", head_, perr);
      if (st == http1::ParseStatus::kComplete) break;
      if (st == http1::ParseStatus::kError)
        co_return fail("provider_bad_response", "invalid response head: " + perr.message);
      if (!co_await fill())
        co_return fail("provider_no_response", watch_->timed_out
                                                   ? "provider timed out"
                                                   : "provider closed without a response");
    }
    buf_.erase(0, head_.head_bytes);
    remaining_ = head_.content_length;
    co_return head_.status;
  }

  awaitable<Result<bool>> read(std::string& out) override {
    for (;;) {
      switch (head_.body) {
        case http1::BodyKind::kNone:
          co_return false;
        case http1::BodyKind::kContentLength: {
          if (remaining_ == 0) co_return false;
          if (buf_.empty() && !co_await fill()) co_return cut();
          size_t n = std::min<uint64_t>(remaining_, buf_.size());
          out.append(buf_, 0, n);
          buf_.erase(0, n);
          remaining_ -= n;
          co_return true;
        }
        case http1::BodyKind::kChunked: {
          if (chunked_.done()) co_return false;
          if (buf_.empty() && !co_await fill()) co_return cut();
          auto o = chunked_.feed(buf_);
          if (o.error) co_return make_error("provider_bad_response", "invalid chunked body");
          bool any = false;
          for (auto d : o.data) {
            out.append(d);
            any = true;
          }
          buf_.erase(0, o.consumed);
          if (o.done) co_return any;
          if (any) co_return true;
          if (!buf_.empty() && o.consumed == 0 && !co_await fill()) co_return cut();
          continue;
        }
        case http1::BodyKind::kUntilClose: {
          if (!buf_.empty()) {
            out += buf_;
            buf_.clear();
            co_return true;
          }
          if (!co_await fill()) {
            if (watch_->timed_out) co_return cut();
            co_return false;
          }
          continue;
        }
      }
    }
  }

  std::string peer() const override { return peer_; }

 private:
  Result<int> fail(const char* code, std::string msg) {
    return make_error(code, std::move(msg), "", 502, ErrorSide::kUpstream);
  }
  Result<bool> cut() {
    return make_error(
        "provider_body_cut",
        watch_->timed_out ? "provider timed out mid-body" : "provider closed mid-body", "", 502,
        ErrorSide::kUpstream);
  }
  std::string endpoint_text() const { return req_.url.host + ":" + std::to_string(req_.url.port); }

  // A watchdog: closing the socket aborts whatever is pending on it. The whole
  // call is bounded by timeouts.request.
  void arm(int64_t ms) {
    if (req_.timeouts.request_ms > 0) {
      int64_t left = start_ms_ + req_.timeouts.request_ms - steady_ms();
      ms = std::min(ms, std::max<int64_t>(left, 1));
    }
    timer_.expires_after(std::chrono::milliseconds(ms));
    // The handler may run after a re-arm or after the call is gone: it only
    // acts through `watch`, for the arming it belongs to.
    uint64_t gen = ++watch_->gen;
    timer_.async_wait([w = watch_, gen](boost::system::error_code ec) {
      if (ec || !w->sock || w->gen != gen) return;
      w->timed_out = true;
      boost::system::error_code ig;
      w->sock->close(ig);
    });
  }

  awaitable<bool> fill() {
    if (!sock_.is_open()) co_return false;
    arm(req_.timeouts.idle_ms);
    std::array<char, kReadChunk> tmp;
    auto [ec, n] = co_await sock_.async_read_some(asio::buffer(tmp), use_nothrow);
    if (ec || n == 0) co_return false;
    buf_.append(tmp.data(), n);
    co_return true;
  }

  HttpRequest req_;
  tcp::socket sock_;
  asio::steady_timer timer_;
  tcp::resolver resolver_;
  http1::ResponseHead head_;
  http1::ChunkedDecoder chunked_;
  std::string buf_;
  std::string peer_;
  uint64_t remaining_ = 0;
  int64_t start_ms_ = 0;
  struct Watch {
    tcp::socket* sock = nullptr;
    uint64_t gen = 0;
    bool timed_out = false;
  };
  std::shared_ptr<Watch> watch_;
};

}  // namespace

std::unique_ptr<Call> make_http_call(asio::any_io_executor ex, HttpRequest req) {
  return std::make_unique<HttpCall>(ex, std::move(req));
}

}  // namespace gatehouse::ai::providers
