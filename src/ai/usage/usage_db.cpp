#include "ai/usage/usage_db.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "store/codec.hpp"
#include "store/migrations/migrations.hpp"
#include "store/postgres/pg_conn.hpp"
#include "store/sqlite/sqlite_conn.hpp"

namespace gatehouse::ai::usage {

namespace json = boost::json;
namespace sql = store::sql;

namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kHourMs = 3'600'000;
constexpr size_t kRowsPerInsert = 32;  // 24 columns each: far below SQLite's parameter limit
constexpr const char* kColumns =
    "at, request_id, route, consumer, credential, endpoint, requested_model, model, provider, "
    "provider_model, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, "
    "reasoning_tokens, usage_known, cost_nanos, status, error, partial, stream, ttft_us, "
    "duration_us, attempts";
constexpr size_t kColumnCount = 24;

// The sums every answer carries, over the same filter.
constexpr const char* kSums =
    "COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(cache_read_tokens), 0), "
    "COALESCE(SUM(cache_write_tokens), 0), COALESCE(SUM(output_tokens), 0), "
    "COALESCE(SUM(reasoning_tokens), 0), SUM(cost_nanos), "
    "COALESCE(SUM(CASE WHEN status >= 400 OR status < 100 THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(partial), 0)";
constexpr size_t kSumCount = 9;

void add_record_params(std::vector<sql::Param>& p, const Record& r) {
  p.emplace_back(r.at_ms);
  p.emplace_back(r.request_id);
  p.emplace_back(r.route);
  p.emplace_back(r.consumer);
  p.emplace_back(r.credential);
  p.emplace_back(r.endpoint);
  p.emplace_back(r.requested_model);
  p.emplace_back(r.model);
  p.emplace_back(r.provider);
  p.emplace_back(r.provider_model);
  p.emplace_back(r.input_tokens);
  p.emplace_back(r.cache_read_tokens);
  p.emplace_back(r.cache_write_tokens);
  p.emplace_back(r.output_tokens);
  p.emplace_back(r.reasoning_tokens);
  p.emplace_back(int64_t{r.usage_known});
  if (r.cost >= 0)
    p.emplace_back(cost_to_nanos(r.cost));
  else
    p.emplace_back(nullptr);
  p.emplace_back(int64_t{r.status});
  p.emplace_back(r.error);
  p.emplace_back(int64_t{r.partial});
  p.emplace_back(int64_t{r.stream});
  if (r.ttft_us >= 0)
    p.emplace_back(r.ttft_us);
  else
    p.emplace_back(nullptr);
  p.emplace_back(r.duration_us);
  p.emplace_back(int64_t{r.attempts});
}

// Sums of columns [at, at + kSumCount) as the answer's totals shape.
json::object sums_json(const sql::Row& row, size_t at) {
  json::object o;
  o["requests"] = row.int64(at);
  int64_t in = row.int64(at + 1), cr = row.int64(at + 2), cw = row.int64(at + 3),
          out = row.int64(at + 4);
  o["input_tokens"] = in;
  o["cache_read_tokens"] = cr;
  o["cache_write_tokens"] = cw;
  o["output_tokens"] = out;
  o["reasoning_tokens"] = row.int64(at + 5);
  o["total_tokens"] = in + cr + cw + out;
  // Unknown (no priced request) is null, not zero.
  if (row.null(at + 6))
    o["cost"] = nullptr;
  else
    o["cost"] = static_cast<double>(row.int64(at + 6)) / 1e9;
  o["errors"] = row.int64(at + 7);
  o["partial"] = row.int64(at + 8);
  return o;
}

const char* group_column(GroupBy g) {
  switch (g) {
    case GroupBy::kConsumer:
      return "consumer";
    case GroupBy::kModel:
      return "model";
    case GroupBy::kProvider:
      return "provider";
    case GroupBy::kRoute:
      return "route";
    case GroupBy::kDay:
      return "(at / 86400000) * 86400000";
    case GroupBy::kHour:
      return "(at / 3600000) * 3600000";
    case GroupBy::kNone:
      break;
  }
  return "";
}

bool time_group(GroupBy g) {
  return g == GroupBy::kDay || g == GroupBy::kHour;
}

}  // namespace

Result<std::unique_ptr<UsageDb>> UsageDb::open(const std::string& store_url,
                                               const std::string& data_dir) {
  std::unique_ptr<sql::Conn> conn;
  if (store_url.rfind("postgres://", 0) == 0 || store_url.rfind("postgresql://", 0) == 0) {
    auto c = store::postgres::PgConn::open(store_url);
    if (!c) return c.error();
    conn = std::move(c.value());
  } else {
    std::string path;
    if (store_url.rfind("sqlite:", 0) == 0) {
      path = store_url.substr(7);
    } else {
      std::filesystem::path dir = data_dir.empty() ? "." : data_dir;
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      path = (dir / "gatehouse.db").string();
    }
    auto c = store::sqlite::SqliteConn::open(path, std::chrono::milliseconds(5000));
    if (!c) return c.error();
    conn = std::move(c.value());
  }
  if (auto m = store::migrations::migrate(*conn); !m) return m.error();
  return std::make_unique<UsageDb>(std::move(conn));
}

Result<void> UsageDb::insert(const std::vector<Record>& records) {
  if (records.empty()) return Ok{};
  std::lock_guard lock(mu_);
  sql::TxGuard tx(*conn_);
  if (auto b = tx.begin(sql::Conn::TxMode::kWrite); !b) return b.error();
  std::vector<sql::Param> params;
  for (size_t i = 0; i < records.size(); i += kRowsPerInsert) {
    size_t n = std::min(kRowsPerInsert, records.size() - i);
    std::string text = std::string("INSERT INTO llm_usage(") + kColumns + ") VALUES ";
    std::string row = "(";
    for (size_t c = 0; c < kColumnCount; ++c) row += c ? ",?" : "?";
    row += ")";
    params.clear();
    for (size_t k = 0; k < n; ++k) {
      if (k) text += ",";
      text += row;
      add_record_params(params, records[i + k]);
    }
    if (auto r = conn_->query(text, params); !r) return r.error();
  }
  return tx.commit();
}

Result<int64_t> UsageDb::delete_before(int64_t at_ms) {
  std::lock_guard lock(mu_);
  auto before = conn_->query("SELECT COUNT(*) FROM llm_usage WHERE at < ?", {at_ms});
  if (!before) return before.error();
  int64_t n = before->empty() ? 0 : before->front().int64(0);
  if (n == 0) return int64_t{0};
  if (auto r = conn_->query("DELETE FROM llm_usage WHERE at < ?", {at_ms}); !r) return r.error();
  return n;
}

Result<json::object> UsageDb::query(const Query& q) {
  std::string where = " WHERE at >= ? AND at < ?";
  std::vector<sql::Param> params{q.from_ms, q.to_ms};
  auto filter = [&](const char* col, const std::string& v) {
    if (v.empty()) return;
    where += std::string(" AND ") + col + " = ?";
    params.emplace_back(v);
  };
  filter("consumer", q.consumer);
  filter("model", q.model);
  filter("provider", q.provider);
  filter("route", q.route);
  const size_t limit = q.limit == 0 ? 100 : std::min<size_t>(q.limit, 1000);

  std::lock_guard lock(mu_);
  // One read snapshot, so the totals and the page agree.
  sql::TxGuard tx(*conn_);
  if (auto b = tx.begin(sql::Conn::TxMode::kRead); !b) return b.error();
  auto totals = conn_->query(std::string("SELECT ") + kSums + " FROM llm_usage" + where, params);
  if (!totals) return totals.error();
  json::object out;
  out["totals"] = sums_json(totals->front(), 0);

  json::array items;
  std::string next;
  if (q.group_by == GroupBy::kNone) {
    std::string page_where = where;
    std::vector<sql::Param> page_params = params;
    if (!q.cursor.empty()) {
      auto key = store::decode_cursor(q.cursor, 2);
      if (!key) return key.error();
      int64_t at = 0, id = 0;
      std::from_chars(key->at(0).data(), key->at(0).data() + key->at(0).size(), at);
      std::from_chars(key->at(1).data(), key->at(1).data() + key->at(1).size(), id);
      page_where += " AND (at < ? OR (at = ? AND id < ?))";
      page_params.insert(page_params.end(), {at, at, id});
    }
    page_params.emplace_back(static_cast<int64_t>(limit + 1));
    auto rows = conn_->query(std::string("SELECT id, ") + kColumns + " FROM llm_usage" +
                                 page_where + " ORDER BY at DESC, id DESC LIMIT ?",
                             page_params);
    if (!rows) return rows.error();
    for (size_t i = 0; i < rows->size() && i < limit; ++i) {
      const sql::Row& r = (*rows)[i];
      json::object o;
      o["id"] = r.int64(0);
      o["at"] = format_time(r.int64(1));
      o["request_id"] = r.text(2);
      o["route"] = r.text(3);
      o["consumer"] = r.text(4);
      o["credential"] = r.text(5);
      o["endpoint"] = r.text(6);
      o["requested_model"] = r.text(7);
      o["model"] = r.text(8);
      o["provider"] = r.text(9);
      o["provider_model"] = r.text(10);
      o["input_tokens"] = r.int64(11);
      o["cache_read_tokens"] = r.int64(12);
      o["cache_write_tokens"] = r.int64(13);
      o["output_tokens"] = r.int64(14);
      o["reasoning_tokens"] = r.int64(15);
      o["usage_known"] = r.int64(16) != 0;
      if (r.null(17))
        o["cost"] = nullptr;
      else
        o["cost"] = static_cast<double>(r.int64(17)) / 1e9;
      o["status"] = r.int64(18);
      o["error"] = r.text(19);
      o["partial"] = r.int64(20) != 0;
      o["stream"] = r.int64(21) != 0;
      if (r.null(22))
        o["ttft_ms"] = nullptr;
      else
        o["ttft_ms"] = static_cast<double>(r.int64(22)) / 1e3;
      o["duration_ms"] = static_cast<double>(r.int64(23)) / 1e3;
      o["attempts"] = r.int64(24);
      items.push_back(std::move(o));
    }
    if (rows->size() > limit) {
      const sql::Row& last = (*rows)[limit - 1];
      next = store::encode_cursor({last.text(1), last.text(0)});
    }
  } else {
    const std::string key = group_column(q.group_by);
    std::string page_where = where;
    std::vector<sql::Param> page_params = params;
    if (!q.cursor.empty()) {
      auto k = store::decode_cursor(q.cursor, 1);
      if (!k) return k.error();
      page_where += " AND " + key + " > ?";
      if (time_group(q.group_by)) {
        int64_t v = 0;
        std::from_chars(k->at(0).data(), k->at(0).data() + k->at(0).size(), v);
        page_params.emplace_back(v);
      } else {
        page_params.emplace_back(k->at(0));
      }
    }
    page_params.emplace_back(static_cast<int64_t>(limit + 1));
    auto rows = conn_->query("SELECT " + key + " AS k, " + kSums + " FROM llm_usage" + page_where +
                                 " GROUP BY k ORDER BY k LIMIT ?",
                             page_params);
    if (!rows) return rows.error();
    for (size_t i = 0; i < rows->size() && i < limit; ++i) {
      const sql::Row& r = (*rows)[i];
      json::object o = sums_json(r, 1);
      if (time_group(q.group_by)) {
        int64_t start = r.int64(0);
        o["key"] = format_time(start);
        o["end"] = format_time(start + (q.group_by == GroupBy::kDay ? kDayMs : kHourMs));
      } else {
        o["key"] = r.text(0);
      }
      items.push_back(std::move(o));
    }
    if (rows->size() > limit) next = store::encode_cursor({(*rows)[limit - 1].text(0)});
  }
  if (auto c = tx.commit(); !c) return c.error();
  out["items"] = std::move(items);
  if (!next.empty())
    out["next_cursor"] = next;
  else
    out["next_cursor"] = nullptr;
  return out;
}

}  // namespace gatehouse::ai::usage
