// An in-memory byte pipe pair for one worker thread: what one end writes the
// other reads, in both directions, with the same async_read_some /
// async_write_some shape as a socket. HTTP/2 streams hand their requests to
// the HTTP/1.1 pipeline through it (see net/http2/README.md).
//
// Single-threaded by contract (one io_context, concurrency hint 1): no locks.
// Each direction is a bounded buffer: a writer whose peer has not read waits
// until it does (backpressure), so a slow reader never lets a fast writer
// queue unbounded bytes. Completions are always posted, never run inline, so
// an operation started from inside another's handler cannot recurse.
#pragma once

#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/asio.hpp"

namespace gatehouse::net {

namespace duplex_detail {

// A pending operation's completion handler, type-erased. (Boost 1.81's
// any_completion_handler re-wraps itself when moved from an lvalue, so this
// small move-only box is used instead.) Completing posts the handler to its
// own associated executor, keeping its allocator and cancellation intact.
struct HandlerBase {
  virtual ~HandlerBase() = default;
  virtual void post(const asio::any_io_executor& fallback, boost::system::error_code ec,
                    size_t n) = 0;
};

template <class H>
struct HandlerBox final : HandlerBase {
  explicit HandlerBox(H h) : h_(std::move(h)) {}
  void post(const asio::any_io_executor& fallback, boost::system::error_code ec,
            size_t n) override {
    auto ex = asio::get_associated_executor(h_, fallback);
    asio::post(ex, asio::append(std::move(h_), ec, n));
  }
  H h_;
};

using Handler = std::unique_ptr<HandlerBase>;

template <class H>
Handler box(H h) {
  return std::make_unique<HandlerBox<H>>(std::move(h));
}

// One direction: bytes written by one end, waiting for the other to read.
struct Direction {
  std::string data;  // unread bytes start at `begin`
  size_t begin = 0;
  bool write_closed = false;  // the writer shut down or went away: EOF after data
  bool read_closed = false;   // the reader went away: writes fail
  bool reset = false;         // the writer aborted: reads fail with connection_reset
  // At most one pending read (by the reader) and one pending write (by the
  // writer), as with a socket.
  Handler reader;
  std::vector<asio::mutable_buffer> read_bufs;
  Handler writer;
  std::vector<asio::const_buffer> write_bufs;

  size_t size() const { return data.size() - begin; }
};

struct State {
  explicit State(asio::any_io_executor e, size_t cap) : ex(std::move(e)), capacity(cap) {}
  asio::any_io_executor ex;
  size_t capacity;
  Direction dir[2];  // dir[i]: written by end i, read by end 1 - i
};

}  // namespace duplex_detail

class DuplexEnd {
 public:
  using executor_type = asio::any_io_executor;

  DuplexEnd() = default;  // not connected: closed
  DuplexEnd(std::shared_ptr<duplex_detail::State> st, int side) : st_(std::move(st)), side_(side) {}
  DuplexEnd(DuplexEnd&& o) noexcept : st_(std::move(o.st_)), side_(o.side_), closed_(o.closed_) {}
  DuplexEnd& operator=(DuplexEnd&& o) noexcept {
    if (this != &o) {
      close();
      st_ = std::move(o.st_);
      side_ = o.side_;
      closed_ = o.closed_;
    }
    return *this;
  }
  DuplexEnd(const DuplexEnd&) = delete;
  DuplexEnd& operator=(const DuplexEnd&) = delete;
  ~DuplexEnd() { close(); }

  executor_type get_executor() const { return st_->ex; }
  bool is_open() const { return st_ && !closed_; }

  // Reads what is buffered (up to the buffers' size), or waits for bytes.
  // Completes with asio::error::eof once the peer has shut down its sending
  // side and every byte was read, operation_aborted after close() here.
  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    std::vector<asio::mutable_buffer> bufs(asio::buffer_sequence_begin(buffers),
                                           asio::buffer_sequence_end(buffers));
    return asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, std::vector<asio::mutable_buffer> b) {
          start_read(duplex_detail::box(std::move(handler)), std::move(b));
        },
        token, std::move(bufs));
  }

  // Copies as much as fits in the peer's buffer (at least one byte), or waits
  // for the peer to read. broken_pipe once the peer has closed.
  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    std::vector<asio::const_buffer> bufs(asio::buffer_sequence_begin(buffers),
                                         asio::buffer_sequence_end(buffers));
    return asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, std::vector<asio::const_buffer> b) {
          start_write(duplex_detail::box(std::move(handler)), std::move(b));
        },
        token, std::move(bufs));
  }

  // No more writes from this end: the peer reads EOF after the buffered bytes.
  void shutdown_send();
  // Both directions end: the peer reads EOF after buffered bytes, its writes
  // fail with broken_pipe; this end's pending operations are aborted.
  void close();
  // An abortive close (a TCP RST): like close(), but unread bytes this end
  // wrote are dropped and the peer's reads fail with connection_reset, so
  // it can tell an abort from an orderly end (RFC 8441 6: RST_STREAM).
  void reset();
  // Aborts this end's pending operations (operation_aborted); the pipe stays usable.
  void cancel();

  // Bytes the peer wrote that this end has not read yet.
  size_t readable() const { return st_ ? in().size() : 0; }

 private:
  duplex_detail::Direction& in() const { return st_->dir[1 - side_]; }
  duplex_detail::Direction& out() const { return st_->dir[side_]; }
  void start_read(duplex_detail::Handler h, std::vector<asio::mutable_buffer> bufs);
  void start_write(duplex_detail::Handler h, std::vector<asio::const_buffer> bufs);

  std::shared_ptr<duplex_detail::State> st_;
  int side_ = 0;
  bool closed_ = false;
};

// Two connected ends on `ex`; each direction buffers at most `capacity` bytes.
std::pair<DuplexEnd, DuplexEnd> make_duplex(asio::any_io_executor ex, size_t capacity = 64 * 1024);

}  // namespace gatehouse::net
