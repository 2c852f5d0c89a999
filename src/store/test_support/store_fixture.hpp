// One typed fixture for the store suites: every TYPED_TEST runs against
// SQLite (a temp folder) and a real PostgreSQL (a fresh database on the
// shared test server).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <type_traits>

#include "store/store.hpp"
#include "store/test_support/pg_server.hpp"

namespace gatehouse::store::testing {

struct SqliteBackend {
  static constexpr const char* kName = "Sqlite";
};
struct PostgresBackend {
  static constexpr const char* kName = "Postgres";
};

struct BackendName {
  template <class T>
  static std::string GetName(int) {
    return T::kName;
  }
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;

template <class B>
class StoreFixture : public ::testing::Test {
 protected:
  static constexpr bool kPostgres = std::is_same_v<B, PostgresBackend>;

  void SetUp() override {
    char tmpl[] = "/tmp/gatehouse-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    if constexpr (kPostgres) {
      std::string error;
      server_ = PgServer::shared(&error);
      ASSERT_NE(server_, nullptr) << error;
      url_ = server_->create_database(&error);
      ASSERT_FALSE(url_.empty()) << error;
    } else {
      url_ = "sqlite:" + dir_ + "/gatehouse.db";
    }
    store_ = open();
    ASSERT_NE(store_, nullptr);
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Another handle on the same database: a second node.
  std::unique_ptr<Store> open() {
    auto r = open_store(url_, dir_, options());
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(r.value()) : nullptr;
  }

  static StoreOptions options() {
    StoreOptions o;
    o.poll_interval = std::chrono::milliseconds(50);
    o.resync_interval = std::chrono::milliseconds(1000);
    o.reconnect_delay = std::chrono::milliseconds(50);
    return o;
  }

  static Entity make(std::string kind, std::string name, std::vector<std::string> tags = {},
                     boost::json::value body = boost::json::object()) {
    Entity e;
    e.kind = std::move(kind);
    e.name = std::move(name);
    e.tags = std::move(tags);
    e.body = std::move(body);
    return e;
  }

  // Commits one create and returns the entity as stored.
  Entity create(Entity e) {
    auto tx = store_->begin("test");
    std::string id = tx.create(std::move(e));
    auto r = tx.commit();
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    auto got = store_->get(Ref::by_id(r.ok() ? r->changes.at(0).after->kind : "", id));
    EXPECT_TRUE(got.ok());
    return got.ok() ? *got : Entity{};
  }

  int64_t revision() {
    auto r = store_->current_revision();
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : -1;
  }

  std::string dir_, url_;
  PgServer* server_ = nullptr;
  std::unique_ptr<Store> store_;
};

}  // namespace gatehouse::store::testing
