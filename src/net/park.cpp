#include "net/park.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "common/log.hpp"

namespace gatehouse::net {

bool ConnectionPark::open(Resume resume) {
  if (watch_.is_open()) return true;
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) {
    log::warn("connection park unavailable", {log::f("error", std::strerror(errno))});
    return false;
  }
  boost::system::error_code ec;
  watch_.assign(fd, ec);
  if (ec) {
    ::close(fd);
    return false;
  }
  resume_ = std::move(resume);
  watch();
  return true;
}

void ConnectionPark::watch() {
  // Readable when any parked descriptor has an event. A nested epoll set is
  // level-triggered towards its parent, so events left over after one
  // batch make the next wait complete at once.
  watch_.async_wait(asio::posix::stream_descriptor::wait_read,
                    [this](boost::system::error_code ec) {
                      if (ec) return;  // closed: shutting down
                      on_ready();
                      if (watch_.is_open()) watch();
                    });
}

void ConnectionPark::on_ready() {
  std::array<epoll_event, 128> events;
  int n = ::epoll_wait(watch_.native_handle(), events.data(), static_cast<int>(events.size()), 0);
  for (int i = 0; i < n; ++i) {
    auto* e = static_cast<Entry*>(events[static_cast<size_t>(i)].data.ptr);
    unlink(e);
    // Out of the set now (EPOLLONESHOT only disabled it): the connection may
    // be parked again later, and adding a registered descriptor fails.
    ::epoll_ctl(watch_.native_handle(), EPOLL_CTL_DEL, e->fd, nullptr);
    tcp::socket sock(ioc_);
    boost::system::error_code ec;
    sock.assign(e->v6 ? tcp::v6() : tcp::v4(), e->fd, ec);
    if (ec) {
      ::close(e->fd);
      delete e;
      continue;
    }
    std::string ip = std::move(e->client_ip);
    int64_t since = e->idle_since_ms;
    delete e;
    resume_(std::move(sock), std::move(ip), since);
  }
}

bool ConnectionPark::park(tcp::socket& sock, std::string client_ip, int64_t idle_since_ms) {
  if (!watch_.is_open() || !sock.is_open()) return false;
  bool v6 = client_ip.find(':') != std::string::npos;
  boost::system::error_code ec;
  int fd = sock.release(ec);
  if (ec) return false;
  auto* e = new Entry{fd, v6, idle_since_ms, std::move(client_ip), tail_, nullptr};
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
  ev.data.ptr = e;
  if (::epoll_ctl(watch_.native_handle(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    // Out of kernel memory for the watch: the connection is closed like an
    // expired one (the client reconnects), never leaked.
    ::close(fd);
    delete e;
    return true;
  }
  if (tail_) tail_->next = e;
  else head_ = e;
  tail_ = e;
  ++size_;
  if (gauge_) gauge_->add(1);
  return true;
}

void ConnectionPark::unlink(Entry* e) {
  if (e->prev) e->prev->next = e->next;
  else head_ = e->next;
  if (e->next) e->next->prev = e->prev;
  else tail_ = e->prev;
  e->prev = e->next = nullptr;
  --size_;
  if (gauge_) gauge_->add(-1);
}

void ConnectionPark::close_entry(Entry* e) {
  unlink(e);
  ::close(e->fd);
  delete e;
}

size_t ConnectionPark::expire(int64_t now_ms, int64_t idle_timeout_ms) {
  size_t n = 0;
  while (head_ && now_ms - head_->idle_since_ms >= idle_timeout_ms) {
    close_entry(head_);
    ++n;
  }
  return n;
}

void ConnectionPark::close_all() {
  while (head_) close_entry(head_);
  boost::system::error_code ec;
  watch_.close(ec);
}

}  // namespace gatehouse::net
