#include "policies/quota/writer.hpp"

#include <chrono>
#include <optional>
#include <set>
#include <tuple>

#include "common/log.hpp"
#include "common/thread.hpp"
#include "policies/rate_limit/shared_state.hpp"

namespace gatehouse::policy::quota {

namespace {

constexpr auto kFlushEvery = std::chrono::seconds(1);

// Set while this thread runs a flush: a table destroyed inside it (the flush
// held its last reference) must not start a nested flush.
thread_local bool t_in_flush = false;

// Failed saves are retried; merging them keeps a long outage from growing
// memory by one batch per second (one entry per scope, key and period).
std::vector<ScopeDeltas> merge(std::vector<ScopeDeltas> batches) {
  std::map<std::string, std::map<std::pair<std::string, int64_t>, int64_t>> sum;
  for (auto& b : batches)
    for (auto& d : b.deltas) sum[b.scope][{std::move(d.key), d.period_start}] += d.count;
  std::vector<ScopeDeltas> out;
  for (auto& [scope, counts] : sum) {
    ScopeDeltas b{scope, {}};
    for (auto& [k, n] : counts) b.deltas.push_back({k.first, k.second, n});
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace

ScopedUsage::ScopedUsage(std::string scope, std::string db_path, Period period, int64_t limit,
                         CountMode mode, std::shared_ptr<Writer> writer)
    : scope_(std::move(scope)),
      db_path_(std::move(db_path)),
      table_(period, limit, mode),
      writer_(std::move(writer)) {}

ScopedUsage::~ScopedUsage() {
  std::vector<Delta> left = table_.take_deltas();
  if (!left.empty()) writer_->adopt(db_path_, {scope_, std::move(left)});
}

std::shared_ptr<Writer> Writer::instance() {
  // Destroyed after main returns (normal exit, including after SIGTERM):
  // that is the final flush. Tables that outlive it still reach the disk,
  // since adopt() saves at once after shutdown.
  struct Handle {
    std::shared_ptr<Writer> writer = std::make_shared<Writer>();
    ~Handle() { writer->shutdown(); }
  };
  static Handle handle;
  return handle.writer;
}

Writer::~Writer() {
  shutdown();
}

void Writer::track(const std::shared_ptr<ScopedUsage>& usage) {
  std::lock_guard lock(mu_);
  std::erase_if(tracked_, [](const auto& w) { return w.expired(); });
  tracked_.push_back(usage);
  if (!thread_.joinable() && !stop_) thread_ = std::thread([this] { run(); });
}

void Writer::adopt(const std::string& db_path, ScopeDeltas batch) {
  if (batch.deltas.empty()) return;
  bool save_now = false;
  {
    std::lock_guard lock(mu_);
    pending_[db_path].push_back(std::move(batch));
    save_now = closed_ && !t_in_flush;
  }
  if (save_now) (void)flush();
}

bool Writer::has_pending(const std::string& db_path, const std::string& scope) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(db_path);
  if (it == pending_.end()) return false;
  for (const auto& b : it->second)
    if (b.scope == scope) return true;
  return false;
}

void Writer::run() {
  make_this_thread_background("gh-quota");
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, kFlushEvery, [this] { return stop_; });
    lock.unlock();
    (void)flush();  // the last round runs after stop_: the shutdown flush
    lock.lock();
  }
}

Result<void> Writer::flush() {
  std::lock_guard flushing(flush_mu_);
  return flush_locked();
}

Result<void> Writer::flush_locked() {
  struct InFlush {
    InFlush() { t_in_flush = true; }
    ~InFlush() { t_in_flush = false; }
  } in_flush;

  std::vector<std::shared_ptr<ScopedUsage>> live;
  {
    std::lock_guard lock(mu_);
    std::erase_if(tracked_, [&](const auto& w) {
      auto s = w.lock();
      if (s) live.push_back(std::move(s));
      return !s;
    });
  }
  std::map<std::string, std::vector<ScopeDeltas>> work;
  std::set<std::string> live_paths;
  for (const auto& s : live) {
    live_paths.insert(s->db_path());
    std::vector<Delta> d = s->table().take_deltas();
    if (!d.empty()) work[s->db_path()].push_back({s->scope(), std::move(d)});
  }
  live.clear();  // may destroy tables: their counts arrive in pending_, taken next
  {
    std::lock_guard lock(mu_);
    for (auto& [path, batches] : pending_)
      for (auto& b : batches) work[path].push_back(std::move(b));
    pending_.clear();
  }

  Result<void> result;
  for (auto& [path, batches] : work) {
    Result<void> r;
    auto& db = dbs_[path];
    if (!db) {
      auto opened = QuotaDb::open(path);
      if (opened)
        db = std::move(opened.value());
      else
        r = opened.error();
    }
    if (db) r = db->add(batches);
    if (r) continue;
    dbs_.erase(path);  // reopen next time: the file may have been fixed or replaced
    if (result) result = r;
    std::lock_guard lock(mu_);
    auto& back = pending_[path];
    for (auto& b : batches) back.push_back(std::move(b));
    back = merge(std::move(back));
  }

  if (!result && !failing_) {
    log::error("quota counts not saved; retrying every second",
               {log::f("code", result.error().code), log::f("message", result.error().message)});
  } else if (result && failing_) {
    log::info("quota counts saved again");
  }
  failing_ = !result;

  // Close files no live policy uses any more (tests, data folders of old
  // configs). Closing checkpoints the WAL: disk I/O, so outside mu_.
  std::vector<std::unique_ptr<QuotaDb>> unused;
  {
    std::lock_guard lock(mu_);
    for (auto it = dbs_.begin(); it != dbs_.end();) {
      if (live_paths.count(it->first) || pending_.count(it->first)) {
        ++it;
      } else {
        unused.push_back(std::move(it->second));
        it = dbs_.erase(it);
      }
    }
  }
  unused.clear();
  return result;
}

void Writer::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  (void)flush();  // hand-overs that raced the thread's last round
}

Result<std::vector<std::pair<std::string, int64_t>>> Writer::load(const std::string& db_path,
                                                                  const std::string& scope,
                                                                  int64_t period_start) {
  // Holding flush_mu_ orders the read after any save in progress, and counts
  // of this scope handed over by a dead table (a reload that changed the
  // policy and then changed it back) are saved first.
  std::lock_guard flushing(flush_mu_);
  if (has_pending(db_path, scope)) {
    if (auto r = flush_locked(); !r) return r.error();
  }
  return load_usage(db_path, scope, period_start);
}

Result<std::shared_ptr<ScopedUsage>> open_usage(const std::string& scope,
                                                const std::string& data_dir, Period period,
                                                int64_t limit, CountMode mode, int64_t now_s) {
  std::string path = db_path_in(data_dir);
  std::shared_ptr<Writer> writer = Writer::instance();
  std::optional<Error> error;
  auto usage =
      shared_state<ScopedUsage>(scope + "\n" + path, [&]() -> std::shared_ptr<ScopedUsage> {
        int64_t start = period_start(period, now_s);
        auto rows = writer->load(path, scope, start);
        if (!rows) {
          error = rows.error();
          return nullptr;
        }
        auto u = std::make_shared<ScopedUsage>(scope, path, period, limit, mode, writer);
        for (const auto& [key, count] : rows.value()) u->table().seed(key, start, count);
        writer->track(u);
        return u;
      });
  if (!usage) return error.value_or(make_error("quota_store_error", "quota counts unavailable"));
  return usage;
}

Result<void> flush_usage() {
  return Writer::instance()->flush();
}

}  // namespace gatehouse::policy::quota
