#include "store/postgres/pg_feed.hpp"

#include <poll.h>

#include <algorithm>
#include <cstdlib>

#include "common/log.hpp"
#include "store/postgres/pg_conn.hpp"

namespace gatehouse::store::postgres {

namespace {

constexpr std::chrono::milliseconds kMaxDelay{5000};

int ms_until(std::chrono::steady_clock::time_point t) {
  auto d =
      std::chrono::duration_cast<std::chrono::milliseconds>(t - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<int64_t>(d.count(), 0, 60'000));
}

}  // namespace

PgFeed::~PgFeed() {
  if (conn_) PQfinish(conn_);
}

bool PgFeed::connect_and_listen() {
  auto c = connect(url_, kListenerName);
  if (!c) {
    if (!warned_) log::warn("store watcher cannot connect", {log::f("error", c.error().message)});
    warned_ = true;
    return false;
  }
  conn_ = *c;
  PGresult* r = PQexec(conn_, (std::string("LISTEN ") + kChannel).c_str());
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  if (!ok) {
    lost("LISTEN failed");
    return false;
  }
  if (warned_) log::info("store watcher connected again");
  warned_ = false;
  return true;
}

void PgFeed::lost(const char* why) {
  if (!warned_)
    log::warn("store watcher lost its connection",
              {log::f("why", why), log::f("error", conn_ ? PQerrorMessage(conn_) : "")});
  warned_ = true;
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
}

int64_t PgFeed::drain_notifications() {
  int64_t best = 0;
  while (PGnotify* n = PQnotifies(conn_)) {
    best = std::max<int64_t>(best, std::strtoll(n->extra, nullptr, 10));
    PQfreemem(n);
  }
  return best;
}

int64_t PgFeed::read_revision() {
  PGresult* r = PQexec(conn_, "SELECT revision FROM config_revision WHERE id = 1");
  int64_t rev = -1;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
    rev = std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10);
  PQclear(r);
  return rev;
}

int64_t PgFeed::wait(int wake_fd) {
  if (!conn_) {
    if (!connect_and_listen()) {
      pollfd p{wake_fd, POLLIN, 0};
      (void)poll(&p, 1, static_cast<int>(delay_.count()));
      delay_ = std::min(delay_ * 2, kMaxDelay);
      return 0;
    }
    delay_ = first_delay_;
    need_resync_ = true;
  }
  int64_t best = 0;
  if (!need_resync_) {
    pollfd fds[2] = {{PQsocket(conn_), POLLIN, 0}, {wake_fd, POLLIN, 0}};
    (void)poll(fds, 2, ms_until(next_resync_));
    if (fds[0].revents != 0) {
      if (!PQconsumeInput(conn_) || PQstatus(conn_) != CONNECTION_OK) {
        lost("read failed");
        return 0;
      }
      best = drain_notifications();
    }
    if (std::chrono::steady_clock::now() >= next_resync_) need_resync_ = true;
  }
  if (need_resync_) {
    int64_t rev = read_revision();
    if (rev < 0) {
      lost("resync failed");
      return best;
    }
    best = std::max({best, rev, drain_notifications()});
    need_resync_ = false;
    next_resync_ = std::chrono::steady_clock::now() + resync_;
  }
  return best;
}

}  // namespace gatehouse::store::postgres
