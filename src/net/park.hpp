// Long-idle keep-alive connections wait here, outside Asio. An Asio socket
// with a pending wait costs its object, the reactor's per-descriptor state
// and the operation (about 0.8 KiB with allocator slack); a parked connection
// costs one small record, while one epoll set per worker watches all their
// descriptors. When a parked connection sends bytes or closes, it is handed
// back as a socket and its session starts again.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/metrics.hpp"
#include <boost/asio/posix/stream_descriptor.hpp>

#include "net/asio.hpp"

namespace gatehouse::net {

class ConnectionPark {
 public:
  // Called with the connection's socket when it becomes readable (bytes or
  // EOF), with the client address and idle start it was parked with.
  using Resume = std::function<void(tcp::socket sock, std::string client_ip, int64_t idle_since_ms)>;

  // `parked_gauge` (may be null) counts parked connections, so the open-
  // connection metric still includes them.
  ConnectionPark(asio::io_context& ioc, metrics::Gauge* parked_gauge)
      : ioc_(ioc), watch_(ioc), gauge_(parked_gauge) {}
  ~ConnectionPark() { close_all(); }
  ConnectionPark(const ConnectionPark&) = delete;
  ConnectionPark& operator=(const ConnectionPark&) = delete;

  // Creates the epoll set and starts watching it; false when that failed
  // (callers then keep idle connections as sockets).
  bool open(Resume resume);
  bool is_open() const { return watch_.is_open(); }

  // Takes over the socket's descriptor. Returns false, leaving the socket
  // untouched, when the park is not open or the descriptor could not be
  // released from Asio.
  bool park(tcp::socket& sock, std::string client_ip, int64_t idle_since_ms);

  // Closes connections idle since before now - idle_timeout; returns how many.
  size_t expire(int64_t now_ms, int64_t idle_timeout_ms);
  // Closes every parked connection (drain, shutdown).
  void close_all();
  size_t size() const { return size_; }

 private:
  struct Entry {
    int fd = -1;
    bool v6 = false;
    int64_t idle_since_ms = 0;
    std::string client_ip;
    Entry* prev = nullptr;
    Entry* next = nullptr;
  };
  void watch();
  void on_ready();
  void unlink(Entry* e);
  void close_entry(Entry* e);

  asio::io_context& ioc_;
  asio::posix::stream_descriptor watch_;  // the epoll set's own descriptor
  Resume resume_;
  metrics::Gauge* gauge_ = nullptr;
  // Oldest first: entries are parked a fixed time after their idle start,
  // so the list is ordered by idle start and expiry stops at the first
  // entry still in time.
  Entry* head_ = nullptr;
  Entry* tail_ = nullptr;
  size_t size_ = 0;
};

}  // namespace gatehouse::net
