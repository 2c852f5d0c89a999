// gatehouse: one binary for the gateway and its tooling.
//   gatehouse serve [-c FILE] [--proxy-listen H:P] [--admin-listen H:P] [--workers N]
//   gatehouse check -c FILE
//   gatehouse export|apply|diff  (declarative sync against the config store)
//   gatehouse version
#include <csignal>
#include <iostream>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>

#include "admin/config_bridge.hpp"
#include "admin/declarative.hpp"
#include "admin/llm_entities.hpp"
#include "admin/secrets.hpp"
#include "admin/yaml_json.hpp"
#include "admin/yaml_locate.hpp"
#include "apim/cli.hpp"
#include "cli/mock_command.hpp"
#include "common/metrics.hpp"
#include "common/settings.hpp"
#include "config/loader.hpp"
#include "proxy/snapshot.hpp"
#include "server/server.hpp"
#include "store/store.hpp"

namespace {

constexpr const char* kVersion = "0.1.0";

void usage(FILE* out) {
  std::fprintf(out,
               "usage: gatehouse <command> [options]\n"
               "\n"
               "commands:\n"
               "  serve     run the gateway\n"
               "  check     validate a config file and print every error\n"
               "  export    write the config in the store as YAML\n"
               "  apply     make the store's config match a YAML file (atomically)\n"
               "  diff      show what apply would change (exit 0: none, 1: changes, 2: error)\n"
               "  openapi   import SPEC (routes as YAML), diff OLD NEW, lint SPEC: see docs/openapi.md\n"
               "  mock      serve SPEC as a mock server (--listen HOST:PORT, --dynamic): docs/mock.md\n"
               "  version   print the version\n"
               "\n"
               "serve options:\n"
               "  -c, --config FILE        declarative YAML config (hot-reloaded on change and SIGHUP)\n"
               "  --proxy-listen HOST:PORT proxy listener (default 0.0.0.0:8080; port 0 = any)\n"
               "  --proxy-tls-listen HOST:PORT  TLS proxy listener (needs tls.certificates)\n"
               "  --admin-listen HOST:PORT admin listener (default 127.0.0.1:9080)\n"
               "  --workers N              worker threads (default: number of cores)\n"
               "  --no-watch               do not reload when the file changes (SIGHUP still does)\n"
               "  --data-dir DIR           durable state such as quota counters (default ./gatehouse-data)\n"
               "  --store URL              config store: sqlite:PATH or postgres://... (default: SQLite in\n"
               "                           the data folder); used when no -c is given\n"
               "  --settings FILE          with the store: server settings (listeners, http, access_log,\n"
               "                           drain_timeout, trust_forwarded) from a YAML file\n"
               "  --secret-key-file FILE   with the store: key-encryption key(s) for provider secrets, 32\n"
               "                           bytes base64 or hex, current first (else GATEHOUSE_SECRET_KEY,\n"
               "                           else DATA_DIR/secret.key, generated for the SQLite default)\n"
               "\n"
               "check options:\n"
               "  -c, --config FILE        the file to validate\n"
               "\n"
               "export / apply / diff options:\n"
               "  -f, --file FILE          apply/diff: the YAML file (- = stdin)\n"
               "  -o, --output FILE        export: write here instead of stdout\n"
               "  --owner TAG              apply/diff: manage only entities tagged TAG\n"
               "  --workspace WS           the workspace (default \"default\")\n"
               "  --data-dir DIR, --store URL   the config store, as for serve\n"
               "  --secret-key-file FILE   apply/diff: the nodes' key-encryption key(s), to seal\n"
               "                           llm provider keys (else GATEHOUSE_SECRET_KEY, else\n"
               "                           DATA_DIR/secret.key)\n"
               "  --settings FILE          apply/diff: the nodes' --settings file (its llm providers\n"
               "                           and models may be referenced, not redefined)\n");
}

struct Args {
  std::vector<std::string> v;
  size_t i = 0;
  bool more() const { return i < v.size(); }
  const std::string& next() { return v[i++]; }
};

int fail(const std::string& msg) {
  std::fprintf(stderr, "gatehouse: %s\n", msg.c_str());
  return 2;
}

int cmd_check(Args& a) {
  std::string file;
  while (a.more()) {
    const std::string& o = a.next();
    if ((o == "-c" || o == "--config" || o == "-f") && a.more()) file = a.next();
    else if (o.rfind("--config=", 0) == 0) file = o.substr(9);
    else return fail("check: unknown option '" + o + "'");
  }
  if (file.empty()) return fail("check: -c FILE is required");
  auto res = gatehouse::config::load_config_file(file);
  for (const auto& e : res.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!res.ok()) {
    std::fprintf(stderr, "%s: %zu error%s\n", file.c_str(), res.errors.size(),
                 res.errors.size() == 1 ? "" : "s");
    return 1;
  }
  // Compile everything the gateway would (router, policies) so that a file
  // that passes check also loads.
  gatehouse::metrics::Registry registry(1);
  auto snap = gatehouse::proxy::build_snapshot(res.config, nullptr, registry, 1);
  if (!snap) {
    const auto& e = snap.error();
    std::string where = file;
    if (e.line > 0) where += ":" + std::to_string(e.line) + ":" + std::to_string(e.column);
    std::fprintf(stderr, "%s: %s: %s\n", where.c_str(), e.field.c_str(), e.message.c_str());
    std::fprintf(stderr, "%s: 1 error\n", file.c_str());
    return 1;
  }
  std::printf("%s: ok (%zu upstreams, %zu routes, %zu consumers, %zu global policies)\n",
              file.c_str(), res.config.upstreams.size(), res.config.routes.size(),
              res.config.consumers.size(), res.config.policies.size());
  return 0;
}

bool valid_store_url(const std::string& url) {
  return url.empty() || url.rfind("sqlite:", 0) == 0 || url.rfind("postgres://", 0) == 0 ||
         url.rfind("postgresql://", 0) == 0;
}

std::string read_all(const std::string& file, bool& ok) {
  std::ostringstream ss;
  if (file == "-") {
    ss << std::cin.rdbuf();
    ok = true;
    return ss.str();
  }
  std::ifstream in(file, std::ios::binary);
  ok = static_cast<bool>(in);
  ss << in.rdbuf();
  return ss.str();
}

// A provider secret the file carries sealed ({sealed, last4}, as exported):
// the loader wants a string there, the apply keeps it when it matches.
bool sealed_in_doc(const boost::json::value& doc, const std::string& field) {
  const boost::json::value* v = &doc;
  size_t i = 0;
  while (v && i < field.size()) {
    if (field[i] == '.') ++i;
    if (field[i] == '[') {
      size_t close = field.find(']', i);
      if (close == std::string::npos || !v->is_array()) return false;
      size_t n = std::strtoul(field.c_str() + i + 1, nullptr, 10);
      v = n < v->get_array().size() ? &v->get_array()[n] : nullptr;
      i = close + 1;
      continue;
    }
    size_t end = field.find_first_of(".[", i);
    if (end == std::string::npos) end = field.size();
    v = v->is_object() ? v->get_object().if_contains(field.substr(i, end - i)) : nullptr;
    i = end;
  }
  return v && v->is_object() && v->get_object().contains("sealed");
}

std::string describe_error(const gatehouse::Error& e) {
  std::string where = e.field;
  if (!e.file.empty()) {
    // "kind/id/name" from the validator: an entity outside the file.
    auto s1 = e.file.find('/');
    auto s2 = e.file.find('/', s1 + 1);
    if (s1 != std::string::npos && s2 != std::string::npos)
      where = e.file.substr(0, s1) + " \"" + e.file.substr(s2 + 1) + "\"" +
              (e.field.empty() ? "" : "." + e.field);
  }
  return (where.empty() ? "" : where + ": ") + e.message + " [" + e.code + "]";
}

// export | apply | diff: operate on the store directly; a running node picks
// committed changes up through its watch.
int cmd_sync(const std::string& cmd, Args& a) {
  std::string file, output, owner, settings, workspace = gatehouse::store::kDefaultWorkspace;
  while (a.more()) {
    const std::string& o = a.next();
    auto value = [&]() -> std::string {
      if (!a.more()) throw std::runtime_error(o + " needs a value");
      return a.next();
    };
    try {
      if (o == "-f" || o == "--file" || o == "-c") file = value();
      else if (o == "-o" || o == "--output") output = value();
      else if (o == "--owner") owner = value();
      else if (o == "--workspace") workspace = value();
      else if (o == "--data-dir") gatehouse::process_settings().data_dir = value();
      else if (o == "--secret-key-file") gatehouse::process_settings().secret_key_file = value();
      else if (o == "--settings") settings = value();
      else if (o == "--store") {
        std::string url = value();
        if (!valid_store_url(url))
          return fail("--store must be sqlite:PATH or postgres://user@host:port/database");
        gatehouse::process_settings().store_url = std::move(url);
      } else return fail(cmd + ": unknown option '" + o + "'");
    } catch (const std::exception& e) {
      return fail(e.what());
    }
  }
  if (cmd != "export" && file.empty()) return fail(cmd + ": -f FILE is required");
  boost::json::value doc, settings_llm, settings_mcp;
  std::string text;
  if (cmd != "export") {
    bool ok = false;
    text = read_all(file, ok);
    if (!ok) return fail("cannot read " + file);
    auto parsed = gatehouse::admin::yaml_to_json(text, true);
    // The loader first: file:line:column errors exactly as `check` and
    // `serve -c` report them (cross-references may point into the store or
    // the settings file, so only shape errors count here; the store
    // validates the result).
    auto res = gatehouse::config::load_config_text(text, file);
    int shape_errors = 0;
    for (const auto& e : res.errors) {
      if (e.code == "unknown_upstream" || e.code == "unknown_reference" ||
          e.code == "unknown_provider" || e.code == "unknown_model" ||
          e.code == "unknown_mcp_server")
        continue;
      if (parsed && sealed_in_doc(*parsed, e.field)) continue;
      std::fprintf(stderr, "%s\n", e.to_string().c_str());
      ++shape_errors;
    }
    if (shape_errors) {
      std::fprintf(stderr, "%s: %d error%s; nothing changed\n", file.c_str(), shape_errors,
                   shape_errors == 1 ? "" : "s");
      return 2;
    }
    if (!parsed) return fail(file + ": " + parsed.error().message);
    doc = std::move(parsed.value());
    if (!settings.empty()) {
      bool sok = false;
      auto st = gatehouse::admin::yaml_to_json(read_all(settings, sok), true);
      if (!sok) return fail("cannot read " + settings);
      if (!st) return fail(settings + ": " + st.error().message);
      if (st->is_object())
        if (auto* l = st->get_object().if_contains("llm")) settings_llm = *l;
      if (st->is_object())
        if (auto* m = st->get_object().if_contains("mcp")) {
          settings_mcp = *m;
          gatehouse::admin::resolve_settings_mcp_files(settings_mcp, settings);
        }
    }
  }
  const auto& ps = gatehouse::process_settings();
  auto st = gatehouse::store::open_store(ps.store_url, ps.data_dir);
  if (!st) return fail("cannot open the config store: " + st.error().message);
  auto& store = *st.value();
  store.set_validator(gatehouse::admin::make_validator(
      [&store](const std::string& sha) { return store.get_document(sha); }, settings_llm,
      settings_mcp));
  if (cmd == "export") {
    int64_t rev = 0;
    auto d = gatehouse::admin::export_document(store, workspace, false, &rev);
    if (!d) return fail(describe_error(d.error()));
    std::string text = "# gatehouse export: " + store.describe() + " workspace " + workspace +
                       " revision " + std::to_string(rev) + "\n" +
                       gatehouse::admin::json_to_block_yaml(*d);
    if (output.empty()) {
      std::fwrite(text.data(), 1, text.size(), stdout);
    } else {
      std::ofstream out(output, std::ios::binary | std::ios::trunc);
      out << text;
      if (!out) return fail("cannot write " + output);
      std::fprintf(stderr, "exported revision %lld to %s\n", static_cast<long long>(rev),
                   output.c_str());
    }
    return 0;
  }
  // Provider keys are sealed (and stored ones compared) under the nodes'
  // key; this tool never generates one. ${VAR} references are resolved by
  // each node, not here.
  {
    auto snap = store.load_all();
    if (!snap) return fail("cannot read the config store: " + snap.error().message);
    auto keys = gatehouse::admin::secrets::prepare_process_keyring(
        ps.secret_key_file, ps.data_dir, false, gatehouse::admin::sealed_key_ids(snap->entities));
    if (!keys) return fail(describe_error(keys.error()));
    gatehouse::admin::validate_refs_unresolved(true);
  }
  // Errors found after loading still point into the file when they can.
  auto where = [&](const gatehouse::Error& e) {
    std::string at = file;
    if (e.file.empty() && !e.field.empty())
      if (auto pos = gatehouse::admin::locate_in_yaml(text, e.field))
        at += ":" + std::to_string(pos->first) + ":" + std::to_string(pos->second);
    return at;
  };
  auto plan = gatehouse::admin::plan_apply(store, doc, workspace, owner,
                                           settings_llm.is_null() ? nullptr : &settings_llm);
  if (!plan) {
    std::fprintf(stderr, "%s: %s%s\n", where(plan.error()).c_str(),
                 describe_error(plan.error()).c_str(), cmd == "apply" ? "; nothing changed" : "");
    return 2;
  }
  for (const auto& k : plan->ignored)
    std::fprintf(stderr, "note: %s is a server setting (flags / -c file), not stored; ignored\n",
                 k.c_str());
  std::string summary = gatehouse::admin::format_diff(plan->diff);
  if (cmd == "diff") {
    if (plan->diff.empty()) {
      std::printf("no changes\n");
      return 0;
    }
    std::fwrite(summary.data(), 1, summary.size(), stdout);
    std::printf("%zu change%s\n", plan->diff.size(), plan->diff.size() == 1 ? "" : "s");
    return 1;
  }
  auto res = gatehouse::admin::commit_plan(store, "cli:apply", *plan);
  if (!res) {
    std::fprintf(stderr, "%s: %s; nothing changed\n", where(res.error()).c_str(),
                 describe_error(res.error()).c_str());
    return 2;
  }
  std::fwrite(summary.data(), 1, summary.size(), stdout);
  if (res->changes.empty())
    std::printf("no changes; revision %lld\n", static_cast<long long>(res->revision));
  else
    std::printf("applied %zu change%s; revision %lld\n", res->changes.size(),
                res->changes.size() == 1 ? "" : "s", static_cast<long long>(res->revision));
  return 0;
}

int cmd_serve(Args& a) {
  gatehouse::server::Options opts;
  while (a.more()) {
    const std::string& o = a.next();
    auto value = [&](const char* name) -> std::string {
      if (!a.more()) throw std::runtime_error(std::string(name) + " needs a value");
      return a.next();
    };
    try {
      if (o == "-c" || o == "--config") opts.config_path = value("--config");
      else if (o.rfind("--config=", 0) == 0) opts.config_path = o.substr(9);
      else if (o == "--settings") opts.settings_path = value("--settings");
      else if (o == "--proxy-listen") opts.proxy_listen = value("--proxy-listen");
      else if (o == "--proxy-tls-listen") opts.proxy_tls_listen = value("--proxy-tls-listen");
      else if (o == "--admin-listen") opts.admin_listen = value("--admin-listen");
      else if (o == "--workers") {
        std::string n = value("--workers");
        if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos || n.size() > 4)
          return fail("--workers needs a positive number");
        opts.workers = static_cast<size_t>(std::stoul(n));
        if (opts.workers == 0) return fail("--workers needs a positive number");
      } else if (o == "--no-watch") opts.watch_config = false;
      else if (o == "--data-dir") gatehouse::process_settings().data_dir = value("--data-dir");
      else if (o == "--secret-key-file")
        gatehouse::process_settings().secret_key_file = value("--secret-key-file");
      else if (o == "--store") {
        std::string url = value("--store");
        if (!valid_store_url(url))
          return fail("--store must be sqlite:PATH or postgres://user@host:port/database");
        gatehouse::process_settings().store_url = std::move(url);
      }
      else return fail("serve: unknown option '" + o + "'");
    } catch (const std::exception& e) {
      return fail(e.what());
    }
  }
  if (!opts.settings_path.empty() && !opts.config_path.empty())
    return fail("--settings is for store mode; with -c the file holds the settings");
  gatehouse::server::Server server(std::move(opts));
  return server.run();
}

}  // namespace

int main(int argc, char** argv) {
  // A peer closing a socket must be an error code, not a process kill.
  std::signal(SIGPIPE, SIG_IGN);
  Args a;
  for (int i = 1; i < argc; ++i) a.v.emplace_back(argv[i]);
  if (!a.more()) {
    usage(stderr);
    return 2;
  }
  std::string cmd = a.next();
  if (cmd == "serve") return cmd_serve(a);
  if (cmd == "check") return cmd_check(a);
  if (cmd == "export" || cmd == "apply" || cmd == "diff") return cmd_sync(cmd, a);
  if (cmd == "openapi")
    return gatehouse::apim::openapi_command(std::vector<std::string>(a.v.begin() + 1, a.v.end()));
  if (cmd == "mock")
    return gatehouse::cli::mock_command(std::vector<std::string>(a.v.begin() + 1, a.v.end()));
  if (cmd == "version" || cmd == "--version") {
    std::printf("gatehouse %s\n", kVersion);
    return 0;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    usage(stdout);
    return 0;
  }
  usage(stderr);
  return 2;
}
