// /api/v1/llm/usage: the AI gateway's usage records (src/ai/usage), filtered
// by time, consumer, model, provider and route, optionally grouped, with
// totals over the whole filter. Not configuration: it works in file mode too.
#include <boost/json.hpp>

#include "admin/api.hpp"
#include "ai/usage/recorder.hpp"

namespace gatehouse::admin {

namespace json = boost::json;

namespace {

AdminResponse usage(Ctx& c) {
  namespace u = ai::usage;
  // Records carry route names of every workspace: only tokens that see every
  // workspace may read them.
  if (!c.who.workspace.empty())
    return problem(403, "forbidden",
                   "LLM usage spans every workspace; use a token that is not limited to one");
  static const char* kKnown[] = {"from",  "to",       "consumer", "model", "provider",
                                 "route", "group_by", "limit",    "cursor"};
  std::string_view q = c.req.query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    std::string_view name = part.substr(0, part.find('='));
    if (name.empty()) continue;
    bool known = false;
    for (const char* k : kKnown) known = known || name == k;
    if (!known)
      return problem(400, "invalid_query",
                     "unknown parameter '" + std::string(name) +
                         "'; use from, to, consumer, model, provider, route, group_by, limit, "
                         "cursor",
                     name);
  }
  u::Query query;
  for (const char* which : {"from", "to"}) {
    auto v = c.req.param(which);
    if (!v) continue;
    auto t = u::parse_time(*v);
    if (!t)
      return problem(400, "invalid_query",
                     std::string(which) +
                         " must be an RFC 3339 time (2026-11-29T12:00:00Z), a date "
                         "(2026-11-29) or unix milliseconds, got '" +
                         *v + "'",
                     which);
    (std::string_view(which) == "from" ? query.from_ms : query.to_ms) = *t;
  }
  if (query.from_ms >= query.to_ms)
    return problem(400, "invalid_query", "from must be before to", "from");
  query.consumer = c.req.param("consumer").value_or("");
  query.model = c.req.param("model").value_or("");
  query.provider = c.req.param("provider").value_or("");
  query.route = c.req.param("route").value_or("");
  if (auto g = c.req.param("group_by")) {
    auto parsed = u::parse_group_by(*g);
    if (!parsed)
      return problem(
          400, "invalid_query",
          "group_by must be consumer, model, provider, route, day or hour, got '" + *g + "'",
          "group_by");
    query.group_by = *parsed;
  }
  auto limit = limit_param(c.req);
  if (!limit) return error_response(limit.error());
  query.limit = *limit;
  query.cursor = c.req.param("cursor").value_or("");
  auto page = u::Recorder::instance().query(query);
  if (!page) {
    Error e = page.error();
    if (e.code == "invalid_cursor") e.field = "cursor";
    if (e.status == 0) e.status = 503;
    return error_response(e);
  }
  json::object& o = page.value();
  if (query.from_ms > 0) o["from"] = u::format_time(query.from_ms);
  if (query.to_ms != std::numeric_limits<int64_t>::max()) o["to"] = u::format_time(query.to_ms);
  if (query.group_by != u::GroupBy::kNone) o["group_by"] = u::group_by_name(query.group_by);
  return json_response(200, o);
}

}  // namespace

void register_llm_usage_routes(Api& api) {
  api.add({"GET", "/api/v1/llm/usage", store::Role::kViewer, false,
           "LLM usage records and totals: filters from, to, consumer, model, provider, route; "
           "group_by consumer|model|provider|route|day|hour; paginated",
           "llm", usage});
}

}  // namespace gatehouse::admin
