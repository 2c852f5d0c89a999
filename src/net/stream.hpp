// The byte stream a downstream Session or an upstream connection reads and
// writes: a TCP socket, optionally with TLS on it. Reads and writes are
// initiated with async_initiate and forwarded to the active layer with the
// caller's own handler, so there is no extra coroutine frame or allocation
// on the plain-TCP path; one `if` per operation is the whole cost.
//
// Every dispatch between kinds goes through visit(). A new kind (the
// in-memory duplex of HTTP/2 streams) is one more member and one more branch
// there, nothing else.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "net/asio.hpp"
#include "net/deadline.hpp"
#include "net/duplex.hpp"
#include "net/read_deferral.hpp"

namespace gatehouse::net {

class Stream {
 public:
  using executor_type = tcp::socket::executor_type;
  using TlsStream = asio::ssl::stream<tcp::socket&>;

  explicit Stream(tcp::socket sock) : sock_(std::move(sock)) {}
  explicit Stream(const executor_type& ex) : sock_(ex) {}
  // An HTTP/2 stream's end of an in-memory pipe (net/http2/README.md). The
  // socket stays unopened: deadlines armed on it never fire on the pipe, so
  // the HTTP/2 connection bounds the stream's time instead.
  Stream(const executor_type& ex, DuplexEnd end)
      : sock_(ex), duplex_(std::make_unique<DuplexEnd>(std::move(end))) {}
  // Not movable: the TLS layer refers to sock_.
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  executor_type get_executor() { return sock_.get_executor(); }

  // The TCP socket under every kind: socket options, deadlines (which close
  // it), and, on plain TCP only, splice(2) and the idle park.
  tcp::socket& socket() { return sock_; }
  const tcp::socket& socket() const { return sock_; }
  bool is_open() const { return duplex_ ? duplex_->is_open() : sock_.is_open(); }

  // splice(2) and parking bypass the byte stream, so they are only allowed
  // when the bytes on the socket are the bytes of the exchange.
  bool plain_tcp() const { return !tls_ && !duplex_; }
  // False for an in-memory stream: readiness waits need a real socket.
  bool has_socket() const { return !duplex_; }

  // Puts TLS on the socket (before any byte is read or written); the
  // handshake is the caller's (tls()->async_handshake).
  TlsStream& start_tls(asio::ssl::context& ctx) {
    tls_ = std::make_unique<TlsStream>(sock_, ctx);
    return *tls_;
  }
  TlsStream* tls() { return tls_.get(); }
  const TlsStream* tls() const { return tls_.get(); }

  // Closes the socket; TLS (if any) fails on its next operation. No
  // close_notify: a response's framing already tells the peer where it ends.
  void close() {
    if (duplex_) duplex_->close();
    boost::system::error_code ec;
    sock_.shutdown(tcp::socket::shutdown_send, ec);
    sock_.close(ec);
  }

  // Aborts this stream's pending reads and writes (operation_aborted); the
  // stream stays open. The in-memory pipe does not take per-operation
  // cancellation, so a relay that must stop a pending read uses this.
  void cancel() {
    if (duplex_) {
      duplex_->cancel();
      return;
    }
    boost::system::error_code ec;
    sock_.cancel(ec);
  }

  // An abortive close: TCP RST (SO_LINGER 0), or a reset pipe for an HTTP/2
  // stream (RST_STREAM). A tunnel passes an abort on as an abort (RFC 8441 6).
  void reset() {
    if (duplex_) duplex_->reset();
    boost::system::error_code ec;
    if (sock_.is_open()) sock_.set_option(asio::socket_base::linger(true, 0), ec);
    sock_.close(ec);
  }

  // Writes what the socket takes right now, without waiting (plain TCP
  // only; other kinds write nothing). Asio completes even an immediately
  // successful async write through the back of the worker's handler queue,
  // behind every other ready connection; at hundreds of connections that
  // queue round per write is what stretched the latency tail. Writing first
  // keeps a request running to completion the way nginx's event loop does.
  // Returns the bytes written; ec is set only for a real error.
  template <class ConstBuffers>
  size_t try_write_some(const ConstBuffers& buffers, boost::system::error_code& ec) {
    ec.clear();
    if (!plain_tcp() || !sock_.is_open()) return 0;
    if (!set_user_non_blocking(ec)) return 0;
    size_t n = sock_.write_some(buffers, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) ec.clear();
    return n;
  }

  // Reads what the socket holds right now, without waiting (plain TCP only;
  // other kinds read nothing). Returns the bytes read; ec is set for a real
  // error or end of stream (eof with 0 bytes), not for "nothing there yet".
  template <class MutableBuffers>
  size_t try_read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
    ec.clear();
    if (!plain_tcp() || !sock_.is_open()) return 0;
    if (!set_user_non_blocking(ec)) return 0;
    size_t n = sock_.read_some(buffers, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) ec.clear();
    return n;
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          visit([&](auto& layer) { layer.async_read_some(b, std::move(handler)); });
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          visit([&](auto& layer) { layer.async_write_some(b, std::move(handler)); });
        },
        token, buffers);
  }

 private:
  bool set_user_non_blocking(boost::system::error_code& ec) {
    if (!user_non_blocking_) {
      sock_.non_blocking(true, ec);
      if (ec) return false;
      user_non_blocking_ = true;
    }
    return true;
  }

  // The one dispatch place.
  template <class F>
  void visit(F&& f) {
    if (!tls_ && !duplex_) [[likely]] {
      f(sock_);
    } else if (tls_) {
      f(*tls_);
    } else {
      f(*duplex_);
    }
  }

  tcp::socket sock_;
  std::unique_ptr<TlsStream> tls_;
  std::unique_ptr<DuplexEnd> duplex_;
  // Set once per socket: sync writes return would_block instead of polling.
  bool user_non_blocking_ = false;
};

// The part of write_all that does not wait: writes what the socket takes now.
// True when there is nothing left to wait for: every byte went, or `ec` is
// set. Otherwise `done` bytes went and write_rest sends the others. Callers on
// the request path use it before write_all so that a write the socket takes
// at once costs no coroutine frame.
inline bool write_now(Stream& s, std::span<const asio::const_buffer> bufs, size_t& done,
                      boost::system::error_code& ec) {
  done = s.try_write_some(bufs, ec);
  if (ec) return true;
  size_t total = 0;
  for (const auto& b : bufs) total += b.size();
  return done == total;
}

// Writes bufs from byte `done` on, asynchronously. The buffers must stay
// valid until it completes.
inline awaitable<boost::system::error_code> write_rest(Stream& s,
                                                       std::span<const asio::const_buffer> bufs,
                                                       size_t done) {
  size_t i = 0;
  while (i < bufs.size() && done >= bufs[i].size()) {
    done -= bufs[i].size();
    ++i;
  }
  if (i == bufs.size()) co_return boost::system::error_code{};
  std::vector<asio::const_buffer> rest(bufs.begin() + static_cast<std::ptrdiff_t>(i), bufs.end());
  rest.front() += done;
  auto [wec, wn] = co_await asio::async_write(s, rest, use_nothrow);
  co_return wec;
}

// Writes every byte of bufs: what the socket takes at once without waiting
// (Stream::try_write_some), the rest asynchronously. The buffers must stay
// valid until it completes.
inline awaitable<boost::system::error_code> write_all(Stream& s,
                                                      std::span<const asio::const_buffer> bufs) {
  size_t done = 0;
  boost::system::error_code ec;
  if (write_now(s, bufs, done, ec)) co_return ec;
  co_return co_await write_rest(s, bufs, done);
}

// Reads once the worker has run the handlers that were ready when it was
// called: it goes to the back of the handler queue first, then takes what the
// socket holds, and waits through Asio only when that is nothing.
//
// Why: Asio tries every read at once, and a read right after sending a
// request upstream (or a response to the client) nearly always finds nothing
// yet: one recv that returns EAGAIN per read, two to three per proxied request.
// Under load the other ready connections take long enough that the bytes are
// there when this one's turn comes, so the read costs one recv. When the bytes
// are not there either, it costs a trip through the queue more than reading
// at once; `learn` (optional) decides whether to defer and records the outcome.
// Other kinds (TLS, the HTTP/2 duplex) read at once as before.
//
// It is an operation, not a coroutine (no frame per read), and the trip is a
// plain function posted to the concrete io_context executor: asio::post on
// the type-erased executor costs three prefer() copies and a work dispatcher
// (3% of a proxied request's CPU). The handler is invoked directly: that
// function runs on the io_context's own thread.
//
// A deadline that cancels rather than closes (Deadline::arm_cancel) and fires
// during the trip finds no operation to cancel, so `cancelled` is checked
// before waiting and answers operation_aborted.
template <class MutableBuffer, class Token>
auto read_after_ready_work(Stream& s, const MutableBuffer& b, const Deadline* cancelled,
                           ReadDeferral* learn, Token&& token) {
  return asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
      [](auto handler, Stream* s, const MutableBuffer& b, const Deadline* cancelled,
         ReadDeferral* learn) {
        const Stream::executor_type ex = s->get_executor();
        const auto* io = s->plain_tcp() ? ex.target<asio::io_context::executor_type>() : nullptr;
        if (!io || (learn && !learn->should_defer())) {
          s->async_read_some(b, std::move(handler));
          return;
        }
        asio::post(*io, [h = std::move(handler), s, b, cancelled, learn]() mutable {
          if (cancelled && cancelled->fired()) {
            std::move(h)(boost::system::error_code(asio::error::operation_aborted), size_t{0});
            return;
          }
          boost::system::error_code ec;
          size_t n = s->try_read_some(b, ec);
          const bool hit = n > 0 || ec;
          if (learn) learn->record(hit);
          if (hit) {
            std::move(h)(ec, n);
            return;
          }
          s->async_read_some(b, std::move(h));
        });
      },
      token, &s, b, cancelled, learn);
}

}  // namespace gatehouse::net
