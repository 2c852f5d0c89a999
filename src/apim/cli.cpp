#include "apim/cli.hpp"

#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "admin/config_bridge.hpp"
#include "admin/yaml_json.hpp"
#include "apim/openapi/diff.hpp"
#include "apim/openapi/lint.hpp"
#include "apim/openapi/loader.hpp"
#include "apim/openapi/to_routes.hpp"

namespace gatehouse::apim {

namespace json = boost::json;

namespace {

int fail(const std::string& msg) {
  std::fprintf(stderr, "gatehouse openapi: %s\n", msg.c_str());
  return 2;
}

// file:line:column: /json/pointer: message [code]
std::string located(const Error& e) {
  std::string where = e.file;
  if (e.line > 0) where += ":" + std::to_string(e.line) + ":" + std::to_string(e.column);
  std::string out = where.empty() ? "" : where + ": ";
  if (!e.field.empty()) out += e.field + ": ";
  return out + e.message + " [" + e.code + "]";
}

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

int cmd_import(const std::vector<std::string>& args) {
  std::string spec, output;
  bool check = false, timing = false;
  openapi::ImportOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string* { return i + 1 < args.size() ? &args[++i] : nullptr; };
    const std::string* v = nullptr;
    if (a == "--check")
      check = true;
    else if (a == "--timing")
      timing = true;
    else if (a == "--api" && (v = value()))
      o.api = *v;
    else if (a == "--version" && (v = value()))
      o.version = *v;
    else if (a == "--upstream" && (v = value()))
      o.upstream = *v;
    else if (a == "--upstream-url" && (v = value()))
      o.upstream_url = *v;
    else if (a == "--tag" && (v = value()))
      o.tags.push_back(*v);
    else if (a == "--oauth2-policy" && (v = value()))
      o.oauth2_policy = *v;
    else if ((a == "-o" || a == "--output") && (v = value()))
      output = *v;
    else if (!a.starts_with("-") && spec.empty())
      spec = a;
    else
      return fail("import: unknown or incomplete option '" + a + "'");
  }
  if (spec.empty()) return fail("import: SPEC is required");
  auto t0 = std::chrono::steady_clock::now();
  auto doc = openapi::load_document_file(spec);
  if (!doc) {
    std::fprintf(stderr, "%s\n", located(doc.error()).c_str());
    return 2;
  }
  double load_ms = ms_since(t0);
  if (o.api.empty()) {
    // The title as a name: "Swagger Petstore" -> "swagger-petstore".
    for (char c : doc->title) {
      char d = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
      bool keep = (d >= 'a' && d <= 'z') || (d >= '0' && d <= '9');
      if (keep)
        o.api += d;
      else if (!o.api.empty() && o.api.back() != '-')
        o.api += '-';
    }
    while (!o.api.empty() && o.api.back() == '-') o.api.pop_back();
    if (o.api.empty()) return fail("import: the document has no usable title: give --api NAME");
  }
  auto t1 = std::chrono::steady_clock::now();
  auto res = openapi::to_routes(*doc, o);
  if (!res) {
    std::fprintf(stderr, "%s: %s\n", spec.c_str(), located(res.error()).c_str());
    return 2;
  }
  double routes_ms = ms_since(t1);
  for (const auto& w : res->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  json::object out;
  if (!res->upstreams.empty()) out["upstreams"] = res->upstreams;
  out["routes"] = res->routes;
  double check_ms = 0;
  if (check) {
    auto t2 = std::chrono::steady_clock::now();
    auto entities = admin::document_entities(out, store::kDefaultWorkspace, nullptr);
    if (!entities) return fail("import: " + entities.error().message);
    if (auto v = admin::validate_entities(*entities); !v) {
      std::fprintf(stderr, "%s: the generated config does not validate: %s: %s [%s]\n",
                   spec.c_str(), v.error().field.c_str(), v.error().message.c_str(),
                   v.error().code.c_str());
      return 1;
    }
    check_ms = ms_since(t2);
  }
  std::string yaml = admin::json_to_block_yaml(out);
  if (output.empty() || output == "-") {
    std::fwrite(yaml.data(), 1, yaml.size(), stdout);
  } else {
    std::ofstream f(output, std::ios::binary);
    f << yaml;
    if (!f) return fail("cannot write " + output);
  }
  if (timing)
    std::fprintf(
        stderr, "%zu operations -> %zu routes: load %.1f ms, routes %.1f ms%s\n",
        doc->operations.size(), res->routes.size(), load_ms, routes_ms,
        check ? (", check " + std::to_string(static_cast<int>(check_ms)) + " ms").c_str() : "");
  return 0;
}

int cmd_diff(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  std::string format = "text";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--format" && i + 1 < args.size())
      format = args[++i];
    else if (a.starts_with("--format="))
      format = a.substr(9);
    else if (!a.starts_with("-") || a == "-")
      files.push_back(a);
    else
      return fail("diff: unknown option '" + a + "'");
  }
  if (files.size() != 2)
    return fail("diff: usage: gatehouse openapi diff OLD NEW [--format text|json]");
  if (format != "text" && format != "json") return fail("diff: --format is text or json");
  auto base = openapi::load_document_file(files[0]);
  if (!base) {
    std::fprintf(stderr, "%s\n", located(base.error()).c_str());
    return 2;
  }
  auto rev = openapi::load_document_file(files[1]);
  if (!rev) {
    std::fprintf(stderr, "%s\n", located(rev.error()).c_str());
    return 2;
  }
  auto changes = openapi::diff(*base, *rev);
  size_t counts[3] = {0, 0, 0};
  for (const auto& c : changes) ++counts[static_cast<int>(c.level)];
  if (format == "json") {
    json::array items;
    for (const auto& c : changes)
      items.push_back(json::object{{"id", c.id},
                                   {"level", openapi::level_name(c.level)},
                                   {"operation", c.operation},
                                   {"location", c.location},
                                   {"message", c.message}});
    json::object out{
        {"breaking", counts[0] > 0},
        {"summary",
         json::object{{"error", counts[0]}, {"warning", counts[1]}, {"info", counts[2]}}},
        {"changes", std::move(items)}};
    std::printf("%s\n", json::serialize(out).c_str());
  } else {
    for (const auto& c : changes)
      std::printf("%-7s [%s] %s: %s\n", std::string(openapi::level_name(c.level)).c_str(),
                  c.id.c_str(), c.location.c_str(), c.message.c_str());
    std::printf("%zu breaking, %zu warning%s, %zu info\n", counts[0], counts[1],
                counts[1] == 1 ? "" : "s", counts[2]);
  }
  return counts[0] > 0 ? 1 : 0;
}

int cmd_lint(const std::vector<std::string>& args) {
  std::string file, format = "text";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--format" && i + 1 < args.size())
      format = args[++i];
    else if (a.starts_with("--format="))
      format = a.substr(9);
    else if (!a.starts_with("-") && file.empty())
      file = a;
    else
      return fail("lint: unknown option '" + a + "'");
  }
  if (file.empty()) return fail("lint: usage: gatehouse openapi lint SPEC [--format text|json]");
  if (format != "text" && format != "json") return fail("lint: --format is text or json");
  auto doc = openapi::load_document_file(file);
  if (!doc) {
    std::fprintf(stderr, "%s\n", located(doc.error()).c_str());
    return 2;
  }
  // The root file again, for positions and the raw info object.
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  auto src = openapi::parse_source(ss.str(), file);
  auto findings = openapi::lint(*doc, src ? src->get() : nullptr);
  size_t errors = 0;
  for (const auto& f : findings) errors += f.severity == openapi::Level::kError;
  if (format == "json") {
    json::array items;
    for (const auto& f : findings)
      items.push_back(json::object{{"rule", f.rule},
                                   {"severity", openapi::level_name(f.severity)},
                                   {"pointer", f.pointer},
                                   {"line", f.line},
                                   {"column", f.column},
                                   {"message", f.message}});
    std::printf("%s\n", json::serialize(json::object{{"file", file},
                                                     {"errors", errors},
                                                     {"findings", std::move(items)}})
                            .c_str());
  } else {
    for (const auto& f : findings) {
      std::string where = file;
      if (f.line > 0) where += ":" + std::to_string(f.line) + ":" + std::to_string(f.column);
      std::printf("%s: %s [%s] %s (%s)\n", where.c_str(),
                  std::string(openapi::level_name(f.severity)).c_str(), f.rule.c_str(),
                  f.message.c_str(), f.pointer.empty() ? "/" : f.pointer.c_str());
    }
    std::printf("%zu error%s, %zu other finding%s\n", errors, errors == 1 ? "" : "s",
                findings.size() - errors, findings.size() - errors == 1 ? "" : "s");
  }
  return errors > 0 ? 1 : 0;
}

}  // namespace

int openapi_command(const std::vector<std::string>& args) {
  if (args.empty()) return fail("usage: gatehouse openapi import|diff|lint ...");
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "import") return cmd_import(rest);
  if (args[0] == "diff") return cmd_diff(rest);
  if (args[0] == "lint") return cmd_lint(rest);
  return fail("unknown subcommand '" + args[0] + "' (import, diff, lint)");
}

}  // namespace gatehouse::apim
