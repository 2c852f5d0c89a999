// Two nodes on one database: concurrent commits, change delivery (NOTIFY on
// PostgreSQL, polling on SQLite), listener reconnects, schema versions.
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "store/migrations/migrations.hpp"
#include "store/postgres/pg_conn.hpp"
#include "store/postgres/pg_feed.hpp"
#include "store/sqlite/sqlite_conn.hpp"
#include "store/test_support/store_fixture.hpp"

namespace gatehouse::store::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// Collects delivered revisions; waits for one with a timeout.
struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int64_t> revisions;
  std::vector<Clock::time_point> times;

  WatchCallback callback() {
    return [this](int64_t rev) {
      std::lock_guard g(mu);
      revisions.push_back(rev);
      times.push_back(Clock::now());
      cv.notify_all();
    };
  }
  // The time `rev` (or a later one) arrived, nullopt after `timeout`.
  std::optional<Clock::time_point> wait_for(int64_t rev, std::chrono::milliseconds timeout) {
    std::unique_lock g(mu);
    std::optional<Clock::time_point> at;
    cv.wait_for(g, timeout, [&] {
      for (size_t i = 0; i < revisions.size(); ++i)
        if (revisions[i] >= rev) {
          at = times[i];
          return true;
        }
      return false;
    });
    return at;
  }
};

template <class B>
class StoreNodes : public StoreFixture<B> {
 protected:
  std::unique_ptr<sql::Conn> raw_conn() {
    if constexpr (StoreFixture<B>::kPostgres) {
      auto c = postgres::PgConn::open(this->url_);
      EXPECT_TRUE(c.ok());
      return c.ok() ? std::move(c.value()) : nullptr;
    } else {
      auto c = sqlite::SqliteConn::open(this->url_.substr(7), std::chrono::milliseconds(1000));
      EXPECT_TRUE(c.ok());
      return c.ok() ? std::move(c.value()) : nullptr;
    }
  }
};
TYPED_TEST_SUITE(StoreNodes, Backends, BackendName);

TYPED_TEST(StoreNodes, ConcurrentWritersNeverLoseAnUpdate) {
  Entity counter = this->create(this->make("policy", "counter", {}, json::object{{"n", 0}}));
  auto node2 = this->open();
  ASSERT_NE(node2, nullptr);
  constexpr int kEach = 20;
  std::vector<int64_t> revs[2];
  int conflicts[2] = {0, 0};
  auto worker = [&](Store* s, int w) {
    for (int done = 0; done < kEach;) {
      auto cur = s->get(Ref::by_id("policy", counter.id));
      if (!cur.ok()) continue;
      Entity next = *cur;
      next.body.as_object()["n"] = next.body.at("n").as_int64() + 1;
      auto tx = s->begin("worker" + std::to_string(w));
      tx.update(next, cur->version);
      auto r = tx.commit();
      if (r.ok()) {
        revs[w].push_back(r->revision);
        ++done;
      } else if (r.error().status == 412) {
        ++conflicts[w];  // lost the race: read again
      } else if (r.error().status != 503) {
        ADD_FAILURE() << r.error().message;
        return;
      }
    }
  };
  std::thread t1(worker, this->store_.get(), 0), t2(worker, node2.get(), 1);
  t1.join();
  t2.join();
  auto final_state = this->store_->get(Ref::by_id("policy", counter.id));
  EXPECT_EQ(final_state->body.at("n").as_int64(), 2 * kEach);
  EXPECT_EQ(final_state->version, 2 * kEach + 1);
  std::vector<int64_t> all;
  for (auto& v : revs) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
    EXPECT_EQ(std::adjacent_find(v.begin(), v.end()), v.end());
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());  // no revision twice
  EXPECT_EQ(this->revision(), 1 + 2 * kEach);
  std::printf("[ store    ] %s: %d commits by two nodes, %d version conflicts retried\n",
              TypeParam::kName, 2 * kEach, conflicts[0] + conflicts[1]);
}

TYPED_TEST(StoreNodes, LocalCommitsReachWatchersAtOnce) {
  Seen seen;
  auto sub = this->store_->watch(seen.callback());
  this->create(this->make("route", "r"));
  EXPECT_TRUE(seen.wait_for(1, std::chrono::seconds(5)).has_value());
  sub.reset();
  this->create(this->make("route", "r2"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::lock_guard g(seen.mu);
  EXPECT_EQ(seen.revisions, std::vector<int64_t>{1});  // nothing after unsubscribing
}

TYPED_TEST(StoreNodes, ACommitOnAnotherNodeReachesThisOne) {
  auto node2 = this->open();
  ASSERT_NE(node2, nullptr);
  Seen seen;
  auto sub = this->store_->watch(seen.callback());
  // Warm-up: the first delivery also proves the listener is up.
  auto tx = node2->begin("node2");
  tx.create(this->make("route", "warmup"));
  ASSERT_TRUE(tx.commit().ok());
  ASSERT_TRUE(seen.wait_for(1, std::chrono::seconds(5)).has_value());

  std::vector<double> latencies;
  for (int i = 0; i < 5; ++i) {
    auto t = node2->begin("node2");
    t.create(this->make("route", "r" + std::to_string(i)));
    auto start = Clock::now();
    auto r = t.commit();
    auto committed = Clock::now();
    ASSERT_TRUE(r.ok());
    auto at = seen.wait_for(r->revision, std::chrono::seconds(5));
    ASSERT_TRUE(at.has_value()) << "revision " << r->revision << " never arrived";
    // Measured from the commit call's start: the notification may arrive
    // before commit() has returned to its caller.
    latencies.push_back(std::chrono::duration<double, std::milli>(*at - start).count());
    (void)committed;
  }
  std::sort(latencies.begin(), latencies.end());
  std::printf(
      "[ store    ] %s: other node's commit delivered in %.2f ms median, %.2f ms max "
      "(from commit start; %s)\n",
      TypeParam::kName, latencies[latencies.size() / 2], latencies.back(),
      StoreFixture<TypeParam>::kPostgres ? "LISTEN/NOTIFY" : "50 ms revision polling");
  std::lock_guard g(seen.mu);
  EXPECT_TRUE(std::is_sorted(seen.revisions.begin(), seen.revisions.end()));
  EXPECT_EQ(std::adjacent_find(seen.revisions.begin(), seen.revisions.end()), seen.revisions.end());
}

TYPED_TEST(StoreNodes, NewerSchemaIsRefusedAndFailedMigrationsRollBack) {
  auto conn = this->raw_conn();
  ASSERT_NE(conn, nullptr);
  auto list = migrations::all();
  EXPECT_EQ(*migrations::schema_version(*conn), list.back().version);

  auto broken = list;
  broken.push_back({list.back().version + 1, "broken", "CREATE TABLE x(a INTEGER); NOT SQL",
                    "CREATE TABLE x(a INTEGER); NOT SQL"});
  auto failed = migrations::migrate(*conn, broken);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("broken"), std::string::npos);
  EXPECT_EQ(*migrations::schema_version(*conn), list.back().version);
  EXPECT_TRUE(conn->query("SELECT 1 FROM entities", {}).ok());
  EXPECT_FALSE(conn->query("SELECT a FROM x", {}).ok());  // its first statement was undone too

  auto future = list;
  future.push_back({list.back().version + 1, "future", "CREATE TABLE future(a INTEGER)",
                    "CREATE TABLE future(a INTEGER)"});
  ASSERT_TRUE(migrations::migrate(*conn, future).ok());
  ASSERT_TRUE(migrations::migrate(*conn, future).ok());  // idempotent
  auto refused = open_store(this->url_, this->dir_, this->options());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "schema_too_new");
}

// PostgreSQL only: the listener survives losing its connection.
class StorePostgres : public StoreFixture<PostgresBackend> {};

TEST_F(StorePostgres, ListenerReconnectsAndResyncs) {
  auto node2 = open();
  ASSERT_NE(node2, nullptr);
  Seen seen;
  auto sub = store_->watch(seen.callback());
  auto tx = node2->begin("n2");
  tx.create(make("route", "a"));
  ASSERT_TRUE(tx.commit().ok());
  ASSERT_TRUE(seen.wait_for(1, std::chrono::seconds(5)).has_value());

  std::string error;
  ASSERT_TRUE(server_->terminate(postgres::kListenerName, &error)) << error;
  auto tx2 = node2->begin("n2");
  tx2.create(make("route", "b"));
  auto r = tx2.commit();
  ASSERT_TRUE(r.ok());
  auto start = Clock::now();
  auto at = seen.wait_for(r->revision, std::chrono::seconds(10));
  ASSERT_TRUE(at.has_value()) << "no delivery after the listener lost its connection";
  std::printf("[ store    ] Postgres: delivered %.0f ms after the listener was killed\n",
              std::chrono::duration<double, std::milli>(*at - start).count());

  // The main connection comes back too (one retry outside a transaction).
  ASSERT_TRUE(server_->terminate("gatehouse", &error)) << error;
  EXPECT_EQ(*node2->current_revision(), r->revision);
}

}  // namespace
}  // namespace gatehouse::store::testing
