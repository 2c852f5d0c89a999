// quota: at most `limit` calls per calendar period (UTC day, ISO week, month,
// year) per consumer, credential, client IP or header value. Counts are exact
// across the node's workers (UsageTable) and saved to SQLite in the
// background (Writer), so neither a reload nor a restart hands out a fresh
// quota. The hooks only touch memory: they never wait on the disk.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>

#include "common/settings.hpp"
#include "common/strings.hpp"
#include "policies/config_reader.hpp"
#include "policies/crypto.hpp"
#include "policies/policy.hpp"
#include "policies/quota/period.hpp"
#include "policies/quota/usage_table.hpp"
#include "policies/quota/writer.hpp"
#include "policies/rate_limit/limit_key.hpp"
#include "policies/rate_limit/shared_state.hpp"

namespace gatehouse::policy {

namespace {

using quota::CountMode;
using quota::Period;
using quota::ScopedUsage;
using quota::Usage;

constexpr int64_t kMaxLimit = 1'000'000'000'000;

enum class QuotaBy { kConsumer, kCredential, kIp, kHeader };

// A key in a fixed buffer (no allocation per call) that reads well in the
// database: "consumer:alice", "credential:key-auth:0a1b2c3d4e5f",
// "ip:198.51.100.7", "header:acme". The kind prefix keeps a consumer named
// "10.0.0.1" and that client IP apart. Header values longer than kMaxValue
// are stored as "header#<sha256 hex>", which bounds an entry's size.
class QuotaKey {
 public:
  static constexpr size_t kMaxValue = 64;
  void set(std::string_view kind, std::string_view value) {
    std::memcpy(buf_, kind.data(), kind.size());
    size_ = kind.size();
    if (value.size() <= kMaxValue) {
      buf_[size_++] = ':';
      append(value);
    } else {
      buf_[size_++] = '#';
      append(hex(sha256(value)));
    }
  }
  std::string_view view() const { return {buf_, size_}; }

 private:
  void append(std::string_view v) {
    std::memcpy(buf_ + size_, v.data(), v.size());
    size_ += v.size();
  }
  // The longest kind ("credential"), a separator, a value or a 64-digit hex digest.
  char buf_[16 + 1 + kMaxValue] = {};
  size_t size_ = 0;
};

int64_t wall_clock_s() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

class Quota final : public Policy {
 public:
  QuotaBy by = QuotaBy::kConsumer;
  std::string header;  // by: header, lower-case
  bool headers = true;
  std::string detail;
  std::string note;  // ctx.vars key: "count: success" carries the admission to on_log
  std::shared_ptr<ScopedUsage> usage;

  std::string_view name() const override { return "quota"; }
  Phase phase() const override { return Phase::kLimit; }

  Action on_request(RequestContext& ctx, Respond& out) const override {
    QuotaKey key;
    make_key(ctx, key);
    int64_t now = wall_clock_s();
    Usage u = usage->table().admit(key.view(), now);
    int64_t reset_s = std::max<int64_t>(1, u.reset_at - now);
    if (headers) add_headers(ctx, u, reset_s);
    if (u.allowed) {
      if (usage->table().mode() == CountMode::kSuccess) {
        std::string v = std::to_string(u.period_start);
        v += ':';
        v += key.view();
        ctx.vars[note] = std::move(v);
      }
      return Action::kContinue;
    }
    out.status = 429;
    out.code = "quota_exceeded";
    out.detail = detail;
    out.headers.push_back({"Retry-After", std::to_string(reset_s)});
    return Action::kRespond;
  }

  // count: success decides on the status (`all` counted at admission): as the
  // head goes out, so that the client's next call already sees it settled
  // (on_log ran after the answer, racing a next call on another worker)...
  void on_response(RequestContext& ctx, int status,
                   std::vector<http1::Header>& /*headers*/) const override {
    settle(ctx, status);
  }

  // ... or at the end, for an exchange that never had a response head.
  void on_log(RequestContext& ctx, int status) const override { settle(ctx, status); }

 private:
  void settle(RequestContext& ctx, int status) const {
    if (usage->table().mode() != CountMode::kSuccess) return;
    auto it = ctx.vars.find(note);
    if (it == ctx.vars.end()) return;  // refused here or never reached: nothing reserved
    std::string_view v = it->second;
    size_t colon = v.find(':');
    if (colon == std::string_view::npos) return;
    int64_t start = 0;
    std::from_chars(v.data(), v.data() + colon, start);
    usage->table().settle(v.substr(colon + 1), start, status >= 100 && status < 400);
    ctx.vars.erase(it);
  }

  // Anonymous calls (no consumer, or key-auth's `anonymous` consumer) are
  // counted per client IP, as rate-limit does: one caller cannot spend the
  // quota of every anonymous caller, and nobody is refused for lack of a key
  // (require one with an authentication policy).
  void make_key(const RequestContext& ctx, QuotaKey& out) const {
    switch (by) {
      case QuotaBy::kConsumer:
        if (!rate_limit::is_anonymous(ctx)) return out.set("consumer", ctx.consumer->name);
        break;
      case QuotaBy::kCredential:
        if (!rate_limit::is_anonymous(ctx)) return out.set("credential", ctx.credential_id);
        break;
      case QuotaBy::kHeader:
        if (ctx.head) {
          if (const std::string* v = ctx.head->find(header)) {
            std::string_view t = trim_ows(*v);
            if (!t.empty()) return out.set("header", t);
          }
        }
        break;
      case QuotaBy::kIp:
        break;
    }
    out.set("ip", ctx.client_ip);
  }

  // Several quotas on one call (a global one and the route's) report the one
  // with the fewest calls left; the first wins a tie.
  void add_headers(RequestContext& ctx, const Usage& u, int64_t reset_s) const {
    auto& hs = ctx.response_headers;
    for (const auto& h : hs) {
      if (!iequals(h.name, "X-Quota-Remaining")) continue;
      int64_t earlier = 0;
      std::from_chars(h.value.data(), h.value.data() + h.value.size(), earlier);
      if (earlier <= u.remaining) return;
      std::erase_if(hs, [](const http1::Header& x) {
        return iequals(x.name, "X-Quota-Limit") || iequals(x.name, "X-Quota-Remaining") ||
               iequals(x.name, "X-Quota-Reset");
      });
      break;
    }
    hs.push_back({"X-Quota-Limit", std::to_string(u.limit)});
    hs.push_back({"X-Quota-Remaining", std::to_string(u.remaining)});
    hs.push_back({"X-Quota-Reset", std::to_string(reset_s)});
  }
};

}  // namespace

void register_quota(Registry& r) {
  r.add("quota",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only({"limit", "period", "by", "header", "count", "headers"});
          auto p = std::make_shared<Quota>();

          if (!cr.has("limit"))
            cr.fail("limit", "missing_field", "calls allowed per period, e.g. limit: 10000");
          int64_t limit = cr.integer("limit", 1, 1, kMaxLimit);

          if (!cr.has("period"))
            cr.fail("period", "missing_field",
                    "the calendar period, e.g. period: month (day, week, month, year)");
          std::string period_s = cr.choice("period", {"day", "week", "month", "year"}, "day");
          Period period = quota::parse_period(period_s).value_or(Period::kDay);

          std::string by_s = "consumer";
          if (auto by = cr.opt_str("by")) {
            by_s = *by;
            if (by_s == "consumer")
              p->by = QuotaBy::kConsumer;
            else if (by_s == "credential")
              p->by = QuotaBy::kCredential;
            else if (by_s == "ip")
              p->by = QuotaBy::kIp;
            else if (by_s == "header")
              p->by = QuotaBy::kHeader;
            else if (by_s == "plan")
              cr.fail("by", "not_supported",
                      "by: plan is not available yet (plans arrive with API management); "
                      "use consumer, credential, ip or header");
            else
              cr.fail("by", "invalid_value",
                      "'" + by_s + "' is not one of: consumer, credential, ip, header");
          }
          if (p->by == QuotaBy::kHeader) {
            p->header = to_lower(trim_ows(cr.str("header")));
            if (p->header.empty())
              cr.fail("header", "missing_field",
                      "by: header needs the header name, e.g. header: x-tenant");
          } else if (cr.has("header")) {
            cr.fail("header", "invalid_value", "header is only used with by: header");
          }

          std::string count_s = cr.choice("count", {"all", "success"}, "all");
          CountMode mode = count_s == "success" ? CountMode::kSuccess : CountMode::kAll;
          p->headers = cr.boolean("headers", true);
          if (auto r2 = cr.finish(); !r2) return r2.error();

          p->detail = "quota of " + std::to_string(limit) + " calls per " + period_s + " exceeded";
          // Where the policy is attached and everything that gives a count its
          // meaning; `headers` does not. The database keys its rows by this, so an
          // unchanged policy finds its counts after a reload or a restart.
          std::string scope = "quota|" + attachment_id(ctx) + "|limit=" + std::to_string(limit) +
                              ";period=" + period_s + ";by=" + by_s +
                              (p->header.empty() ? "" : ";header=" + p->header) +
                              ";count=" + count_s;
          auto usage = quota::open_usage(scope, process_settings().data_dir, period, limit, mode,
                                         wall_clock_s());
          if (!usage) {
            Error e = usage.error();
            e.field = ctx.field;
            e.side = ErrorSide::kConfig;
            e.file = ref.pos.file;
            e.line = ref.pos.line;
            e.column = ref.pos.column;
            return e;
          }
          p->usage = std::move(usage.value());
          p->note = "quota@" + std::to_string(reinterpret_cast<uintptr_t>(p.get()));
          return std::shared_ptr<const Policy>(p);
        });
}

}  // namespace gatehouse::policy
