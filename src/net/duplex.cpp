#include "net/duplex.hpp"

#include <algorithm>
#include <cstring>

namespace gatehouse::net {

namespace {

using duplex_detail::Direction;
using duplex_detail::Handler;
using duplex_detail::State;

void complete(State& st, Handler h, boost::system::error_code ec, size_t n) {
  h->post(st.ex, ec, n);
}

// Moves a direction forward as far as it can: a waiting reader takes buffered
// bytes (or EOF), then a waiting writer fills the space that made.
void progress(State& st, Direction& d) {
  for (bool moved = true; moved;) {
    moved = false;
    if (d.reader && d.reset) {
      d.read_bufs.clear();
      complete(st, std::move(d.reader), asio::error::connection_reset, 0);
      d.reader = nullptr;
      moved = true;
    }
    if (d.reader && (d.size() > 0 || d.write_closed)) {
      size_t n = 0;
      for (auto& b : d.read_bufs) {
        size_t take = std::min(b.size(), d.size());
        if (take == 0) break;
        std::memcpy(b.data(), d.data.data() + d.begin, take);
        d.begin += take;
        n += take;
      }
      if (d.begin == d.data.size()) {
        d.data.clear();
        d.begin = 0;
      }
      d.read_bufs.clear();
      auto ec = n == 0 ? boost::system::error_code(asio::error::eof) : boost::system::error_code();
      complete(st, std::move(d.reader), ec, n);
      d.reader = nullptr;
      moved = true;
    }
    if (d.writer && d.read_closed) {
      d.write_bufs.clear();
      complete(st, std::move(d.writer), asio::error::broken_pipe, 0);
      d.writer = nullptr;
    } else if (d.writer && d.size() < st.capacity) {
      if (d.begin > 0 && d.begin >= d.data.size() / 2) {  // reclaim the read prefix
        d.data.erase(0, d.begin);
        d.begin = 0;
      }
      size_t room = st.capacity - d.size();
      size_t n = 0;
      for (auto& b : d.write_bufs) {
        size_t take = std::min(b.size(), room - n);
        d.data.append(static_cast<const char*>(b.data()), take);
        n += take;
        if (n == room) break;
      }
      d.write_bufs.clear();
      complete(st, std::move(d.writer), {}, n);
      d.writer = nullptr;
      moved = n > 0;
    }
  }
}

}  // namespace

void DuplexEnd::start_read(Handler h, std::vector<asio::mutable_buffer> bufs) {
  if (!is_open()) {
    complete(*st_, std::move(h), asio::error::bad_descriptor, 0);
    return;
  }
  if (asio::buffer_size(bufs) == 0) {
    complete(*st_, std::move(h), {}, 0);
    return;
  }
  Direction& d = in();
  if (d.reader) {  // like a socket, one read at a time
    complete(*st_, std::move(h), asio::error::in_progress, 0);
    return;
  }
  d.reader = std::move(h);
  d.read_bufs = std::move(bufs);
  progress(*st_, d);
}

void DuplexEnd::start_write(Handler h, std::vector<asio::const_buffer> bufs) {
  if (!is_open() || out().write_closed) {
    complete(*st_, std::move(h), asio::error::bad_descriptor, 0);
    return;
  }
  if (asio::buffer_size(bufs) == 0) {
    complete(*st_, std::move(h), {}, 0);
    return;
  }
  Direction& d = out();
  if (d.writer) {
    complete(*st_, std::move(h), asio::error::in_progress, 0);
    return;
  }
  d.writer = std::move(h);
  d.write_bufs = std::move(bufs);
  progress(*st_, d);
}

void DuplexEnd::shutdown_send() {
  if (!is_open()) return;
  Direction& d = out();
  d.write_closed = true;
  progress(*st_, d);
}

void DuplexEnd::cancel() {
  if (!st_) return;
  Direction& r = in();
  if (r.reader) {
    complete(*st_, std::move(r.reader), asio::error::operation_aborted, 0);
    r.reader = nullptr;
    r.read_bufs.clear();
  }
  Direction& w = out();
  if (w.writer) {
    complete(*st_, std::move(w.writer), asio::error::operation_aborted, 0);
    w.writer = nullptr;
    w.write_bufs.clear();
  }
}

void DuplexEnd::close() {
  if (!is_open()) return;
  cancel();
  closed_ = true;
  Direction& o = out();
  o.write_closed = true;
  progress(*st_, o);
  Direction& i = in();
  i.read_closed = true;
  // Bytes nobody will read are dropped; a peer waiting to write learns now.
  i.data.clear();
  i.begin = 0;
  progress(*st_, i);
}

void DuplexEnd::reset() {
  if (!is_open()) return;
  Direction& o = out();
  o.reset = true;
  o.data.clear();
  o.begin = 0;
  close();
}

std::pair<DuplexEnd, DuplexEnd> make_duplex(asio::any_io_executor ex, size_t capacity) {
  auto st = std::make_shared<State>(std::move(ex), std::max<size_t>(capacity, 1));
  return {DuplexEnd(st, 0), DuplexEnd(st, 1)};
}

}  // namespace gatehouse::net
