#include "ai/usage/recorder.hpp"

#include <chrono>

#include "common/log.hpp"
#include "common/settings.hpp"
#include "common/thread.hpp"

namespace gatehouse::ai::usage {

namespace {

constexpr int64_t kSweepEveryMs = 5 * 60'000;  // retention is in hours or days: no hurry

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Recorder& Recorder::instance() {
  static Recorder r;
  return r;
}

Recorder::~Recorder() {
  shutdown();
}

void Recorder::use_db(std::unique_ptr<UsageDb> db) {
  std::lock_guard lock(flush_mu_);
  db_ = std::move(db);
}

void Recorder::submit(size_t worker, Record r, const config::LlmUsageConfig& cfg) {
  // Relaxed stores only when the snapshot changed them, so workers do not
  // keep writing one shared cache line.
  if (flush_interval_ms_.load(std::memory_order_relaxed) != cfg.flush_interval_ms)
    flush_interval_ms_.store(cfg.flush_interval_ms, std::memory_order_relaxed);
  if (retention_ms_.load(std::memory_order_relaxed) != cfg.retention_ms)
    retention_ms_.store(cfg.retention_ms, std::memory_order_relaxed);
  if (max_pending_.load(std::memory_order_relaxed) != cfg.max_pending)
    max_pending_.store(cfg.max_pending, std::memory_order_relaxed);
  if (pending_.load(std::memory_order_relaxed) >= max_pending_.load(std::memory_order_relaxed)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::call_once(started_, [this] {
    std::lock_guard lock(mu_);
    if (!stop_) thread_ = std::thread([this] { run(); });
  });
  pending_.fetch_add(1, std::memory_order_relaxed);
  Shard& s = shards_[worker % kShards];
  std::lock_guard lock(s.mu);
  s.buf.push_back(std::move(r));
}

Result<UsageDb*> Recorder::db() {
  if (!db_) {
    const auto& ps = process_settings();
    auto opened = UsageDb::open(ps.store_url, ps.data_dir);
    if (!opened) return opened.error();
    db_ = std::move(opened.value());
  }
  return db_.get();
}

Result<void> Recorder::flush() {
  std::lock_guard lock(flush_mu_);
  std::vector<Record> batch = std::move(retry_);
  retry_.clear();
  for (auto& s : shards_) {
    std::vector<Record> taken;
    {
      std::lock_guard sl(s.mu);
      taken.swap(s.buf);
    }
    if (batch.empty()) {
      batch = std::move(taken);
    } else {
      batch.insert(batch.end(), std::make_move_iterator(taken.begin()),
                   std::make_move_iterator(taken.end()));
    }
  }
  if (batch.empty()) return Ok{};
  auto d = db();
  Result<void> r = d ? d.value()->insert(batch) : Result<void>(d.error());
  if (!r) {
    if (!failing_)
      log::error("cannot write llm usage records; keeping them to retry",
                 {log::f("message", r.error().message),
                  log::n("records", static_cast<long long>(batch.size()))});
    failing_ = true;
    db_.reset();  // reopen next time (a lost PostgreSQL connection, a moved file)
    retry_ = std::move(batch);
    return r;
  }
  if (failing_) log::info("llm usage records written again");
  failing_ = false;
  pending_.fetch_sub(batch.size(), std::memory_order_relaxed);
  written_.fetch_add(batch.size(), std::memory_order_relaxed);
  return Ok{};
}

Result<int64_t> Recorder::sweep(int64_t now_ms) {
  std::lock_guard lock(flush_mu_);
  auto d = db();
  if (!d) return d.error();
  last_sweep_ms_ = now_ms;
  return d.value()->delete_before(now_ms - retention_ms_.load(std::memory_order_relaxed));
}

Result<boost::json::object> Recorder::query(const Query& q) {
  (void)flush();  // read what this node has buffered too; a failure shows in the query
  std::lock_guard lock(flush_mu_);
  auto d = db();
  if (!d) return d.error();
  return d.value()->query(q);
}

void Recorder::run() {
  make_this_thread_background("gh-usage");
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock,
                 std::chrono::milliseconds(flush_interval_ms_.load(std::memory_order_relaxed)),
                 [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    // Behind by more than a tenth of what may wait: normal priority until
    // the buffers are drained (see common/thread.hpp).
    set_this_thread_background(pending_.load(std::memory_order_relaxed) <=
                               max_pending_.load(std::memory_order_relaxed) / 10);
    (void)flush();
    int64_t now = unix_ms();
    bool due;
    {
      std::lock_guard fl(flush_mu_);
      due = now - last_sweep_ms_ >= kSweepEveryMs;
    }
    if (due) {
      auto swept = sweep(now);
      if (swept && *swept > 0)
        log::info("deleted llm usage records past the retention",
                  {log::n("records", static_cast<long long>(*swept))});
    }
    lock.lock();
  }
}

void Recorder::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (pending_.load(std::memory_order_relaxed) > 0) (void)flush();
}

std::string render_usage_metrics() {
  const Recorder& r = Recorder::instance();
  return "# HELP gatehouse_llm_usage_records_written_total LLM usage records written to the "
         "store.\n# TYPE gatehouse_llm_usage_records_written_total counter\n"
         "gatehouse_llm_usage_records_written_total " +
         std::to_string(r.written()) +
         "\n# HELP gatehouse_llm_usage_records_dropped_total LLM usage records dropped because "
         "llm.usage.max_pending were waiting for the database.\n"
         "# TYPE gatehouse_llm_usage_records_dropped_total counter\n"
         "gatehouse_llm_usage_records_dropped_total " +
         std::to_string(r.dropped()) + "\n";
}

}  // namespace gatehouse::ai::usage
