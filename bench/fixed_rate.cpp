// fixed_rate: an open-loop HTTP/1.1 load generator for bench/ai_gateway.sh.
//
// wrk keeps a fixed number of requests in flight (closed loop), so when the
// server slows down it sends less and the slow period hides from the
// percentiles ("coordinated omission"); wrk2 is not packaged in Debian and
// h2load's --rate paces connections, not requests. This driver sends request
// i at start + i / rate whatever happened before, on keep-alive connections
// (one request in flight per connection, as an SDK does), and measures each
// latency from the time the request was *due*, so a stall counts against every
// request queued behind it (what wrk2 does).
//
//   fixed_rate --port P --path /v1/chat/completions [--body-file F]
//              [--host 127.0.0.1] [--header 'K: V']... [--rate 1000]
//              [--duration 10] [--warmup 2] [--conns 64]
//
// With --body-file the request is a JSON POST of that file; without, a GET
// (bench/latency.sh).
//
// Prints one JSON line: requests, errors, achieved rate, and latency
// percentiles (us) of the whole answer and of its first body byte. Handles
// Content-Length and chunked (SSE) answers. Single-threaded epoll: one core
// drives well over 20k req/s against a local server.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/";
  std::string body;
  bool post = false;  // --body-file given: POST it, else GET
  std::vector<std::string> headers;
  double rate = 1000;
  double duration = 10;
  double warmup = 2;
  int conns = 64;
};

enum class Phase { kIdle, kWriting, kHead, kBody, kChunkSize, kChunkData, kChunkCrlf, kChunkEnd, kDead };

struct Conn {
  int fd = -1;
  Phase phase = Phase::kDead;
  std::string out;
  size_t written = 0;
  std::string in;
  int64_t due_ns = 0;      // when the request in flight was due
  int64_t first_ns = 0;    // first body byte
  size_t remaining = 0;    // Content-Length / chunk bytes left
  bool chunked = false;
  bool close_after = false;
  int status = 0;
};

struct Stats {
  std::vector<int64_t> total_us, first_us;
  uint64_t errors = 0, non2xx = 0;
};

int connect_to(const Options& o) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(o.port));
  inet_pton(AF_INET, o.host.c_str(), &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

double pct(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return static_cast<double>(v[std::min(i, v.size() - 1)]);
}

// Consumes what it can of c.in; true when the response is complete.
bool parse(Conn& c, int64_t t) {
  for (;;) {
    switch (c.phase) {
      case Phase::kHead: {
        size_t e = c.in.find("\r\n\r\n");
        if (e == std::string::npos) return false;
        std::string head = c.in.substr(0, e);
        c.in.erase(0, e + 4);
        c.status = std::atoi(head.c_str() + 9);
        std::string lower = head;
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        c.chunked = lower.find("transfer-encoding: chunked") != std::string::npos;
        c.close_after = lower.find("connection: close") != std::string::npos;
        size_t cl = lower.find("content-length:");
        c.remaining = cl == std::string::npos ? 0 : std::strtoull(lower.c_str() + cl + 15, nullptr, 10);
        c.phase = c.chunked ? Phase::kChunkSize : Phase::kBody;
        break;
      }
      case Phase::kBody: {
        if (!c.in.empty() && c.first_ns == 0) c.first_ns = t;
        size_t n = std::min(c.remaining, c.in.size());
        c.in.erase(0, n);
        c.remaining -= n;
        if (c.remaining == 0) {
          if (c.first_ns == 0) c.first_ns = t;
          return true;
        }
        return false;
      }
      case Phase::kChunkSize: {
        size_t e = c.in.find("\r\n");
        if (e == std::string::npos) return false;
        c.remaining = std::strtoull(c.in.c_str(), nullptr, 16);
        c.in.erase(0, e + 2);
        if (c.remaining == 0) {
          c.phase = Phase::kChunkEnd;
        } else {
          c.phase = Phase::kChunkData;
        }
        break;
      }
      case Phase::kChunkData: {
        if (c.in.empty()) return false;
        if (c.first_ns == 0) c.first_ns = t;
        size_t n = std::min(c.remaining, c.in.size());
        c.in.erase(0, n);
        c.remaining -= n;
        if (c.remaining) return false;
        c.phase = Phase::kChunkCrlf;
        break;
      }
      case Phase::kChunkCrlf: {  // the CRLF after a chunk's data
        if (c.in.size() < 2) return false;
        c.in.erase(0, 2);
        c.phase = Phase::kChunkSize;
        break;
      }
      case Phase::kChunkEnd: {
        size_t e = c.in.find("\r\n");  // no trailers expected
        if (e == std::string::npos) return false;
        c.in.erase(0, e + 2);
        if (c.first_ns == 0) c.first_ns = t;
        return true;
      }
      default:
        return false;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Timers fire on time, not up to 50 us late (the default slack): a late
  // wake-up would add to every measured latency.
  prctl(PR_SET_TIMERSLACK, 1UL);
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--host") o.host = v;
    else if (k == "--port") o.port = std::atoi(v.c_str());
    else if (k == "--path") o.path = v;
    else if (k == "--header") o.headers.push_back(v);
    else if (k == "--rate") o.rate = std::atof(v.c_str());
    else if (k == "--duration") o.duration = std::atof(v.c_str());
    else if (k == "--warmup") o.warmup = std::atof(v.c_str());
    else if (k == "--conns") o.conns = std::atoi(v.c_str());
    else if (k == "--body-file") {
      o.post = true;
      std::ifstream f(v, std::ios::binary);
      std::stringstream ss;
      ss << f.rdbuf();
      o.body = ss.str();
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (o.port <= 0 || o.rate <= 0) {
    std::fprintf(stderr, "usage: fixed_rate --port P --path PATH [--body-file F] [--rate R] ...\n");
    return 2;
  }
  std::string request = (o.post ? "POST " : "GET ") + o.path + " HTTP/1.1\r\nHost: " + o.host + "\r\n";
  for (const auto& h : o.headers) request += h + "\r\n";
  if (o.post) {
    request += "Content-Type: application/json\r\nContent-Length: " +
               std::to_string(o.body.size()) + "\r\n\r\n" + o.body;
  } else {
    request += "\r\n";
  }

  int ep = epoll_create1(0);
  std::vector<Conn> conns(static_cast<size_t>(o.conns));
  std::deque<size_t> idle;
  auto open = [&](size_t i) {
    Conn& c = conns[i];
    if (c.fd >= 0) {
      epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
      close(c.fd);
    }
    c = Conn{};
    c.fd = connect_to(o);
    if (c.fd < 0) return false;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    c.phase = Phase::kIdle;
    idle.push_back(i);
    return true;
  };
  for (size_t i = 0; i < conns.size(); ++i)
    if (!open(i)) {
      std::fprintf(stderr, "cannot connect to %s:%d\n", o.host.c_str(), o.port);
      return 1;
    }

  Stats st;
  const int64_t interval = static_cast<int64_t>(1e9 / o.rate);
  const int64_t start = now_ns();
  const int64_t measure_from = start + static_cast<int64_t>(o.warmup * 1e9);
  const int64_t stop = measure_from + static_cast<int64_t>(o.duration * 1e9);
  int64_t next_due = start;
  std::deque<int64_t> backlog;  // due times of requests no connection was free for
  uint64_t sent = 0;

  auto try_write = [&](size_t i) {
    Conn& c = conns[i];
    while (c.written < c.out.size()) {
      ssize_t n = ::send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
      if (n > 0) {
        c.written += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return true;
      } else {
        return false;
      }
    }
    c.phase = Phase::kHead;
    return true;
  };
  auto fail = [&](size_t i) {
    if (conns[i].due_ns >= measure_from && conns[i].due_ns < stop) ++st.errors;
    auto it = std::find(idle.begin(), idle.end(), i);
    if (it != idle.end()) idle.erase(it);
    open(i);
  };
  auto dispatch = [&](int64_t due) {
    if (idle.empty()) {
      backlog.push_back(due);
      return;
    }
    size_t i = idle.front();
    idle.pop_front();
    Conn& c = conns[i];
    c.out = request;
    c.written = 0;
    c.due_ns = due;
    c.first_ns = 0;
    c.phase = Phase::kWriting;
    ++sent;
    if (!try_write(i)) fail(i);
  };

  std::vector<epoll_event> events(256);
  std::string buf(65536, '\0');
  for (;;) {
    int64_t t = now_ns();
    while (next_due <= t && next_due < stop) {
      dispatch(next_due);
      next_due += interval;
    }
    bool busy = !backlog.empty() || idle.size() < conns.size();
    if (next_due >= stop && !busy) break;
    if (t > stop + 10'000'000'000LL) break;  // answers that never come
    // Sleep exactly until the next request is due (epoll_pwait2 takes
    // nanoseconds; epoll_wait's milliseconds rounded every wait under 1 ms to
    // 0, so the driver spun at 100% CPU and took the core from a provider or
    // upstream sharing it).
    int64_t wait_ns = next_due < stop ? std::max<int64_t>(0, next_due - t) : 10'000'000;
    timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000), static_cast<long>(wait_ns % 1'000'000'000)};
    int n = epoll_pwait2(ep, events.data(), static_cast<int>(events.size()), &timeout, nullptr);
    t = now_ns();
    for (int k = 0; k < n; ++k) {
      size_t i = events[static_cast<size_t>(k)].data.u64;
      Conn& c = conns[i];
      if (c.phase == Phase::kWriting && !try_write(i)) {
        fail(i);
        continue;
      }
      bool dead = false;
      for (;;) {
        ssize_t r = ::recv(c.fd, buf.data(), buf.size(), 0);
        if (r > 0) {
          c.in.append(buf.data(), static_cast<size_t>(r));
        } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          break;
        } else {
          dead = true;
          break;
        }
      }
      if (c.phase != Phase::kIdle && c.phase != Phase::kWriting && parse(c, t)) {
        if (c.due_ns >= measure_from && c.due_ns < stop) {
          if (c.status < 200 || c.status >= 300) ++st.non2xx;
          st.total_us.push_back((t - c.due_ns) / 1000);
          st.first_us.push_back((c.first_ns - c.due_ns) / 1000);
        }
        if (c.close_after || dead) {
          open(i);
          idle.pop_back();
        }
        c.phase = Phase::kIdle;
        idle.push_back(i);
        if (!backlog.empty()) {
          int64_t due = backlog.front();
          backlog.pop_front();
          dispatch(due);
        }
      } else if (dead) {
        fail(i);
      }
    }
  }
  std::sort(st.total_us.begin(), st.total_us.end());
  std::sort(st.first_us.begin(), st.first_us.end());
  std::printf(
      "{\"rate\":%.0f,\"requests\":%zu,\"errors\":%llu,\"non2xx\":%llu,\"achieved_rps\":%.1f,"
      "\"p50_us\":%.0f,\"p90_us\":%.0f,\"p99_us\":%.0f,\"p999_us\":%.0f,\"max_us\":%.0f,"
      "\"ttfb_p50_us\":%.0f,\"ttfb_p99_us\":%.0f}\n",
      o.rate, st.total_us.size(), static_cast<unsigned long long>(st.errors),
      static_cast<unsigned long long>(st.non2xx),
      static_cast<double>(st.total_us.size()) / o.duration, pct(st.total_us, 50),
      pct(st.total_us, 90), pct(st.total_us, 99), pct(st.total_us, 99.9),
      st.total_us.empty() ? 0.0 : static_cast<double>(st.total_us.back()),
      pct(st.first_us, 50), pct(st.first_us, 99));
  return 0;
}
