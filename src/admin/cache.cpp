// /cache: purging proxy-cache entries. Not config: nothing is written to the
// store, so it works in file mode too, and the purge reaches this node only
// (each node has its own in-memory cache).
#include <boost/json.hpp>

#include "admin/api.hpp"
#include "policies/proxy_cache/cache_store.hpp"

namespace gatehouse::admin {

namespace json = boost::json;

void register_cache_routes(Api& api) {
  auto purge = [](std::string_view route) {
    size_t n = policy::CacheRegistry::instance().purge(route);
    json::object o;
    o["purged"] = n;
    if (!route.empty()) o["route"] = route;
    return json_response(200, o);
  };
  api.add({"DELETE", "/api/v1/cache", store::Role::kEditor, false,
           "Purge every proxy-cache entry on this node", "cache",
           [purge](Ctx&) { return purge({}); }});
  api.add({"DELETE", "/api/v1/cache/{route}", store::Role::kEditor, false,
           "Purge the proxy-cache entries of one route on this node", "cache",
           [purge](Ctx& c) { return purge(c.vars.at("route")); }});
}

}  // namespace gatehouse::admin
