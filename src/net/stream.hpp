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
#include <utility>

#include "net/asio.hpp"
#include "net/duplex.hpp"

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
};

}  // namespace gatehouse::net
