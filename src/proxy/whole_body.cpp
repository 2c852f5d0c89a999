// Reading a whole request body into memory. Bodies stream everywhere else;
// the routes that need the whole message (LLM and MCP JSON, mock validation,
// body-editing policies) read it here, bounded by their limit, so framing,
// limits, the 100-continue and the deadline are handled the same way.
#include "common/clock.hpp"
#include "net/worker.hpp"
#include "proxy/session.hpp"

namespace gatehouse::proxy {

awaitable<Session::WholeBody> Session::read_whole_body(const http1::RequestHead& head,
                                                       std::string& body, uint64_t max,
                                                       BodyDeadline deadline) {
  WholeBody out;
  if (head.body == http1::BodyKind::kNone) co_return out;
  // Too large by its Content-Length: not read (no 100-continue invites it);
  // the caller answers and closes, since the body is still on the wire.
  if (head.body == http1::BodyKind::kContentLength && head.content_length > max) {
    out.kind = WholeBody::kTooLarge;
    co_return out;
  }
  if (head.expect_continue &&
      !co_await write_all(stream_, deadline_, "HTTP/1.1 100 Continue\r\n\r\n", {}, deadline.ms)) {
    out.kind = WholeBody::kIncomplete;
    co_return out;
  }
  auto arm = [&] {
    deadline_.arm(worker_.deadlines(), &stream_.socket(), steady_ms() + deadline.ms);
  };
  arm();
  auto more = [&]() -> awaitable<bool> {
    if (deadline.per_read) arm();
    co_return co_await read_some();
  };
  if (head.body == http1::BodyKind::kContentLength) {
    body.reserve(static_cast<size_t>(head.content_length));
    for (;;) {
      size_t take =
          static_cast<size_t>(std::min<uint64_t>(head.content_length - body.size(), buf_.size()));
      body.append(buf_.view().substr(0, take));
      buf_.consume(take);
      if (body.size() == head.content_length) break;
      if (!co_await more()) {
        out.kind = WholeBody::kIncomplete;
        break;
      }
    }
  } else {
    http1::ChunkedDecoder dec;
    for (;;) {
      if (!buf_.empty()) {
        auto o = dec.feed(buf_.view());
        if (o.error) {
          out.kind = WholeBody::kBadChunked;
          out.error_code = o.error_code.empty() ? "bad_chunked_body" : o.error_code;
          break;
        }
        for (auto d : o.data) body.append(d);
        buf_.consume(o.consumed);
        if (body.size() > max) {
          out.kind = WholeBody::kTooLarge;
          break;
        }
        if (o.done) break;
      }
      if (!co_await more()) {
        out.kind = WholeBody::kIncomplete;
        break;
      }
    }
  }
  deadline_.disarm();
  co_return out;
}

}  // namespace gatehouse::proxy
