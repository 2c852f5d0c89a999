#include "store/postgres/pg_conn.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cstring>

namespace gatehouse::store::postgres {

namespace {

void drop_notice(void*, const char*) {}

// `?` placeholders to PostgreSQL's $1, $2 ... (the store's SQL never has a
// `?` inside a literal).
std::string number_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 8);
  int n = 0;
  for (char c : sql) {
    if (c == '?')
      out += "$" + std::to_string(++n);
    else
      out += c;
  }
  return out;
}

struct ResultPtr {
  PGresult* r;
  ~ResultPtr() { PQclear(r); }
};

bool ok_status(const PGresult* r) {
  auto s = PQresultStatus(r);
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

}  // namespace

Result<PGconn*> connect(const std::string& url, const char* application_name) {
  // Keywords before "dbname" are defaults: the expanded URL that follows
  // overrides them. Keepalives and a TCP user timeout bound how long a
  // vanished server (not a closed socket: a dead host or network) can keep
  // a call, or the listener, waiting.
  const char* keys[] = {
      "connect_timeout",  "application_name", "keepalives_idle", "keepalives_interval",
      "keepalives_count", "tcp_user_timeout", "dbname",          nullptr};
  const char* vals[] = {"10", application_name, "10", "3", "3", "15000", url.c_str(), nullptr};
  PGconn* c = PQconnectdbParams(keys, vals, 1);
  if (!c) return make_error("store_unavailable", "out of memory connecting to PostgreSQL", {}, 503);
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = "cannot connect to " + redact_url(url) + ": " + PQerrorMessage(c);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(c);
    return make_error("store_unavailable", msg, {}, 503);
  }
  PQsetNoticeProcessor(c, drop_notice, nullptr);
  return c;
}

std::string redact_url(const std::string& url) {
  auto u = boost::urls::parse_uri(url);
  if (!u) return "postgres://(unparsable url)";
  boost::urls::url v(*u);
  if (v.has_password()) v.set_password("xxx");
  return std::string(v.buffer());
}

Error pg_error(PGconn* c, const PGresult* r, std::string_view what) {
  std::string msg(what);
  const char* detail = r ? PQresultErrorMessage(r) : nullptr;
  if (!detail || !*detail) detail = PQerrorMessage(c);
  msg += ": ";
  msg += detail ? detail : "unknown error";
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (PQstatus(c) != CONNECTION_OK) return make_error("store_unavailable", msg, {}, 503);
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  if (state && std::strcmp(state, "23505") == 0)
    return make_error("unique_violation", msg, {}, 409, ErrorSide::kDownstream);
  if (state && (std::strcmp(state, "40001") == 0 || std::strcmp(state, "40P01") == 0)) {
    Error e = make_error("store_busy", msg, {}, 503);
    e.retry_safe = true;
    return e;
  }
  return make_error("store_error", msg, {}, 500);
}

Result<std::unique_ptr<PgConn>> PgConn::open(const std::string& url) {
  auto c = connect(url, "gatehouse");
  if (!c) return c.error();
  return std::unique_ptr<PgConn>(new PgConn(*c, url));
}

PgConn::~PgConn() {
  PQfinish(conn_);
}

Result<void> PgConn::ensure_connected() {
  if (PQstatus(conn_) == CONNECTION_OK) return Ok{};
  if (in_tx_) return pg_error(conn_, nullptr, "connection lost in a transaction");
  PQreset(conn_);
  prepared_.clear();  // they died with the old session
  if (PQstatus(conn_) != CONNECTION_OK)
    return pg_error(conn_, nullptr, "cannot reconnect to " + redact_url(url_));
  PQsetNoticeProcessor(conn_, drop_notice, nullptr);
  return Ok{};
}

Result<sql::Rows> PgConn::query(std::string_view sql, const std::vector<sql::Param>& params) {
  auto r = run(sql, params);
  // A statement outside a transaction that found the connection dead (the
  // server restarted since the last call) is safe to send again once.
  if (!r && !in_tx_ && PQstatus(conn_) != CONNECTION_OK) r = run(sql, params);
  return r;
}

Result<sql::Rows> PgConn::run(std::string_view sql, const std::vector<sql::Param>& params) {
  if (auto ok = ensure_connected(); !ok) return ok.error();
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "gh" + std::to_string(prepared_.size());
    std::string text = number_placeholders(sql);
    ResultPtr p{PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr)};
    if (!ok_status(p.r)) return pg_error(conn_, p.r, "cannot prepare statement");
    it = prepared_.emplace(std::string(sql), std::move(name)).first;
  }
  std::vector<std::string> texts(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  for (size_t i = 0; i < params.size(); ++i) {
    if (std::holds_alternative<int64_t>(params[i])) {
      texts[i] = std::to_string(std::get<int64_t>(params[i]));
      values[i] = texts[i].c_str();
    } else if (std::holds_alternative<std::string>(params[i])) {
      values[i] = std::get<std::string>(params[i]).c_str();
    }
  }
  ResultPtr res{PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(params.size()),
                               values.data(), nullptr, nullptr, 0)};
  if (!ok_status(res.r)) return pg_error(conn_, res.r, "query failed");
  sql::Rows rows;
  int n = PQntuples(res.r), cols = PQnfields(res.r);
  rows.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    sql::Row row;
    row.cols.reserve(static_cast<size_t>(cols));
    for (int c = 0; c < cols; ++c) {
      if (PQgetisnull(res.r, i, c))
        row.cols.emplace_back(std::nullopt);
      else
        row.cols.emplace_back(
            std::string(PQgetvalue(res.r, i, c), static_cast<size_t>(PQgetlength(res.r, i, c))));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<void> PgConn::script(std::string_view sql) {
  if (auto ok = ensure_connected(); !ok) return ok.error();
  std::string text(sql);
  ResultPtr res{PQexec(conn_, text.c_str())};
  if (!ok_status(res.r)) return pg_error(conn_, res.r, "statement failed");
  return Ok{};
}

Result<void> PgConn::begin(TxMode mode) {
  auto r =
      script(mode == TxMode::kWrite ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  in_tx_ = r.ok();
  return r;
}

Result<void> PgConn::commit() {
  auto r = script("COMMIT");
  in_tx_ = false;
  return r;
}

void PgConn::rollback() {
  if (!in_tx_) return;
  in_tx_ = false;
  if (PQstatus(conn_) == CONNECTION_OK) (void)script("ROLLBACK");
}

}  // namespace gatehouse::store::postgres
