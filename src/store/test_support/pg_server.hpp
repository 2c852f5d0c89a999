// A real PostgreSQL server for tests: initdb into a temp folder, started on a
// free loopback port (its unix socket in the same folder), shared by every
// test of one test-binary run and stopped at the end. As root, the server
// runs as the `postgres` user (PostgreSQL refuses root). A watchdog process
// stops it and removes the folder even if the test binary crashes.
#pragma once

#include <string>

namespace gatehouse::store::testing {

class PgServer {
 public:
  // The shared server, started on first use. nullptr (and *error set) when
  // it cannot run: tests must then fail, not skip.
  static PgServer* shared(std::string* error);
  // Stops the shared server if it was started (the global environment).
  static void stop_shared();

  // A new empty database; returns its URL or "" with *error set.
  std::string create_database(std::string* error);
  std::string url(const std::string& db) const;
  // Kills the backends of connections whose application_name is `app`.
  bool terminate(const std::string& app, std::string* error);

  ~PgServer();

 private:
  PgServer() = default;
  bool start(std::string* error);
  void stop();

  std::string bindir_, dir_, user_;
  int port_ = 0;
  int watchdog_fd_ = -1;
  bool running_ = false;
  int next_db_ = 0;
};

}  // namespace gatehouse::store::testing
