#include "config/loader.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/loader_test_util.hpp"

namespace gatehouse::config {
namespace {

TEST(ConfigEnv, UnsetVariableIsReportedAtTheScalar) {
  EnvGuard unset("GH_TEST_UNSET", nullptr);
  auto r =
      load(with_upstream("    targets:\n"
                         "      - address: \"${GH_TEST_UNSET}:80\"\n"));
  // The target's address stays empty, which is not reported a second time.
  expect_only_error(r, "unset_variable", "upstreams[0].targets[0].address", 4, 18);
  EXPECT_NE(r.errors[0].message.find("GH_TEST_UNSET"), std::string::npos);
}

TEST(ConfigEnv, MalformedReferenceIsInvalidValue) {
  auto r =
      load(with_upstream("    targets: [\"10.0.0.1:80\"]\n"
                         "    tags: [\"${oops\", \"${1BAD}\"]\n"));
  ASSERT_EQ(r.errors.size(), 2u) << dump(r);
  EXPECT_EQ(r.errors[0].code, "invalid_value");
  EXPECT_EQ(r.errors[0].field, "upstreams[0].tags[0]");
  EXPECT_EQ(r.errors[0].pos.line, 4);
  EXPECT_EQ(r.errors[0].pos.column, 12);
  EXPECT_EQ(r.errors[1].field, "upstreams[0].tags[1]");
}

// ---------------------------------------------------------------- error codes

TEST(ConfigErrors, YamlSyntax) {
  auto r = load("routes:\n  - name: a\n    match: {paths: [\"/a\"\n");
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].code, "yaml_syntax");
  EXPECT_EQ(r.errors[0].pos.line, 4);
  EXPECT_EQ(r.errors[0].pos.column, 1);

  auto tab = load("upstreams:\n\t- name: a\n");
  ASSERT_EQ(tab.errors.size(), 1u) << dump(tab);
  EXPECT_EQ(tab.errors[0].code, "yaml_syntax");
  EXPECT_EQ(tab.errors[0].pos.line, 2);
}

TEST(ConfigErrors, OnlyOneDocument) {
  auto r = load("upstreams: []\n---\nroutes: []\n");
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].code, "yaml_syntax");
  EXPECT_EQ(r.errors[0].pos.line, 3);
}

TEST(ConfigErrors, UnknownFieldWithSuggestion) {
  auto r = load(with_route("    match:\n      pahts: [\"/a\"]\n"));
  expect_only_error(r, "unknown_field", "routes[0].match.pahts", 8, 7);
  EXPECT_EQ(r.errors[0].message, "unknown field \"pahts\" (did you mean \"paths\"?)");

  auto top = load("upstream:\n  - name: a\n");
  expect_only_error(top, "unknown_field", "upstream", 1, 1);
  EXPECT_NE(top.errors[0].message.find("did you mean \"upstreams\"?"), std::string::npos);

  auto far = load("zzzzzz: 1\n");
  expect_only_error(far, "unknown_field", "zzzzzz", 1, 1);
  EXPECT_EQ(far.errors[0].message, "unknown field \"zzzzzz\"");
}

TEST(ConfigErrors, DuplicateKey) {
  auto r = load(with_route("    upstream: users\n"));
  expect_only_error(r, "duplicate_key", "routes[0].upstream", 7, 5);
  EXPECT_NE(r.errors[0].message.find("line 6"), std::string::npos);
}

TEST(ConfigErrors, InvalidType) {
  auto r = load("upstreams: {name: a}\n");
  expect_only_error(r, "invalid_type", "upstreams", 1, 12);
  EXPECT_EQ(r.errors[0].message, "expected a list, got a map");

  auto root = load("- a\n- b\n");
  expect_only_error(root, "invalid_type", "", 1, 1);

  auto scalar = load(
      "upstreams:\n"
      "  - name: users\n"
      "    targets: [\"127.0.0.1:9001\"]\n"
      "routes:\n"
      "  - name: r\n"
      "    upstream: [users]\n");
  expect_only_error(scalar, "invalid_type", "routes[0].upstream", 6, 15);
}

TEST(ConfigErrors, NullValuesPointAtTheKeyOrTheWrittenNull) {
  // An empty value must not be reported at the next line's token.
  auto empty = load(
      "routes:\n  - name: r\n    upstream: users\n    match:\n      headers:\n"
      "        x-a:\n        x-b: \"1\"\n");
  ASSERT_EQ(empty.errors.size(), 2u) << dump(empty);  // and the unknown upstream
  EXPECT_EQ(empty.errors[1].field, "routes[0].match.headers.x-a");
  EXPECT_EQ(empty.errors[1].pos.line, 6);
  EXPECT_EQ(empty.errors[1].pos.column, 9);

  auto written = load("policies:\n  - {name: a}\n  - ~\n");
  expect_only_error(written, "invalid_type", "policies[1]", 3, 5);
}

TEST(ConfigErrors, InvalidValues) {
  auto dur =
      load(with_upstream("    targets: [\"10.0.0.1:80\"]\n"
                         "    timeouts: {connect: 5x}\n"));
  expect_only_error(dur, "invalid_value", "upstreams[0].timeouts.connect", 4, 25);

  auto neg =
      load(with_upstream("    targets: [\"10.0.0.1:80\"]\n"
                         "    timeouts: {connect: -5s}\n"));
  expect_only_error(neg, "invalid_value", "upstreams[0].timeouts.connect", 4, 25);

  auto zero =
      load(with_upstream("    targets: [\"10.0.0.1:80\"]\n"
                         "    timeouts: {connect: 0}\n"));
  expect_only_error(zero, "invalid_value", "upstreams[0].timeouts.connect", 4, 25);

  auto weight = load(with_upstream("    targets: [{address: \"10.0.0.1:80\", weight: 1001}]\n"));
  expect_only_error(weight, "invalid_value", "upstreams[0].targets[0].weight", 3, 48);

  auto negw = load(with_upstream("    targets: [{address: \"10.0.0.1:80\", weight: -1}]\n"));
  expect_only_error(negw, "invalid_value", "upstreams[0].targets[0].weight", 3, 48);

  auto boolean = load("trust_forwarded: yes\n");
  expect_only_error(boolean, "invalid_value", "trust_forwarded", 1, 18);

  auto size = load("http:\n  max_header_bytes: 64q\n");
  expect_only_error(size, "invalid_value", "http.max_header_bytes", 2, 21);

  auto status =
      load(with_upstream("    targets: [\"10.0.0.1:80\"]\n"
                         "    retries: {on_statuses: [502, 700]}\n"));
  expect_only_error(status, "invalid_value", "upstreams[0].retries.on_statuses[1]", 4, 34);

  auto pct =
      load(with_upstream("    targets: [\"10.0.0.1:80\"]\n"
                         "    retries: {budget_percent: 101}\n"));
  expect_only_error(pct, "invalid_value", "upstreams[0].retries.budget_percent", 4, 31);

  auto backoff =
      load(with_upstream("    targets: [\"10.0.0.1:80\"]\n"
                         "    retries: {backoff_base: 1s, backoff_max: 10ms}\n"));
  expect_only_error(backoff, "invalid_value", "upstreams[0].retries.backoff_max", 4, 46);

  auto kind =
      load(with_upstream("    targets: [\"10.0.0.1:80\"]\n"
                         "    balancer: round-robbin\n"));
  expect_only_error(kind, "invalid_value", "upstreams[0].balancer", 4, 15);
  EXPECT_NE(kind.errors[0].message.find("did you mean \"round-robin\"?"), std::string::npos);

  auto hash =
      load(with_upstream("    targets: [\"10.0.0.1:80\"]\n"
                         "    balancer: {kind: ewma, hash_on: ip}\n"));
  expect_only_error(hash, "invalid_value", "upstreams[0].balancer.hash_on", 4, 37);
}

TEST(ConfigErrors, MissingFields) {
  auto name = load("upstreams:\n  - targets: [\"10.0.0.1:80\"]\n");
  expect_only_error(name, "missing_field", "upstreams[0].name", 2, 5);

  auto targets = load("upstreams:\n  - name: u\n    targets: []\n");
  expect_only_error(targets, "missing_field", "upstreams[0].targets", 3, 14);

  auto no_targets = load("upstreams:\n  - name: u\n");
  expect_only_error(no_targets, "missing_field", "upstreams[0].targets", 2, 5);

  auto route = load(with_route("  - upstream: users\n"));
  expect_only_error(route, "missing_field", "routes[1].name", 7, 5);

  auto upstream = load("routes:\n  - name: r\n");
  expect_only_error(upstream, "missing_field", "routes[0].upstream", 2, 5);

  auto key =
      load(with_upstream("    targets: [\"10.0.0.1:80\"]\n"
                         "    balancer: {kind: consistent-hash, hash_on: header}\n"));
  expect_only_error(key, "missing_field", "upstreams[0].balancer.key", 4, 15);

  auto cred = load("consumers:\n  - name: c\n    credentials: [{key: k}]\n");
  expect_only_error(cred, "missing_field", "consumers[0].credentials[0].type", 3, 19);

  auto policy = load("policies: [{config: {a: 1}}]\n");
  expect_only_error(policy, "missing_field", "policies[0].name", 1, 12);
}

TEST(ConfigErrors, InvalidName) {
  auto r = load(with_route("  - name: \"bad name\"\n    upstream: users\n"));
  expect_only_error(r, "invalid_name", "routes[1].name", 7, 11);

  auto long_name =
      load("upstreams:\n  - name: " + std::string(129, 'a') + "\n    targets: [\"10.0.0.1:80\"]\n");
  expect_only_error(long_name, "invalid_name", "upstreams[0].name", 2, 11);
}

TEST(ConfigErrors, DuplicateNamePointsAtSecondAndMentionsFirst) {
  auto r = load(
      "upstreams:\n"
      "  - name: users\n"
      "    targets: [\"10.0.0.1:80\"]\n"
      "  - name: users\n"
      "    targets: [\"10.0.0.2:80\"]\n");
  expect_only_error(r, "duplicate_name", "upstreams[1].name", 4, 11);
  EXPECT_EQ(r.errors[0].message, "duplicate upstream name \"users\" (first defined at line 2)");

  auto routes = load(with_route("  - name: r\n    upstream: users\n"));
  expect_only_error(routes, "duplicate_name", "routes[1].name", 7, 11);

  auto consumers = load("consumers:\n  - name: c\n  - {name: c}\n");
  expect_only_error(consumers, "duplicate_name", "consumers[1].name", 3, 12);
}

TEST(ConfigErrors, UnknownUpstreamWithSuggestion) {
  auto r = load(
      "upstreams:\n"
      "  - name: users\n"
      "    targets: [\"10.0.0.1:80\"]\n"
      "routes:\n"
      "  - name: r\n"
      "    upstream: usres\n");
  expect_only_error(r, "unknown_upstream", "routes[0].upstream", 6, 15);
  EXPECT_EQ(r.errors[0].message, "unknown upstream \"usres\" (did you mean \"users\"?)");
}

TEST(ConfigErrors, InvalidPath) {
  // Each is a literal path that could never equal a canonical request path.
  for (const char* bad : {"a", "/a//b", "/a/./b", "/a/../b", "/a/..", "/a b", "/a?x=1", "/a#f",
                          "/%2Fa", "/%41", "/%zz", "/%2f", "=/a//", "=", "/a\\\\b", "/a\\tb"}) {
    auto r = load(with_route("    match: {paths: [\"" + std::string(bad) + "\"]}\n"));
    expect_only_error(r, "invalid_path", "routes[0].match.paths[0]", 7, 21);
  }
  auto prefix = load(with_route("    rewrite: {path_prefix: \"internal\"}\n"));
  expect_only_error(prefix, "invalid_path", "routes[0].rewrite.path_prefix", 7, 28);
}

TEST(ConfigErrors, InvalidRegex) {
  auto r = load(with_route("    match: {paths: [\"/ok\", \"~^/(a\"]}\n"));
  expect_only_error(r, "invalid_regex", "routes[0].match.paths[1]", 7, 28);
  EXPECT_NE(r.errors[0].message.find("missing )"), std::string::npos) << r.errors[0].message;

  auto header = load(with_route("    match:\n      headers: {x-a: \"~[a-\"}\n"));
  expect_only_error(header, "invalid_regex", "routes[0].match.headers.x-a", 8, 22);

  auto rewrite = load(with_route("    rewrite: {regex: \"(\", replacement: \"/\"}\n"));
  expect_only_error(rewrite, "invalid_regex", "routes[0].rewrite.regex", 7, 22);
}

TEST(ConfigErrors, InvalidTemplate) {
  for (const char* bad : {"/u/{id", "/u/id}", "/u/{id}.json", "/u/x{id}", "/u/{}", "/u/{1x}",
                          "/u/{a-b}", "/u/{id}/{id}", "/u/{{id}}"}) {
    auto r = load(with_route("    match:\n      paths:\n        - \"" + std::string(bad) + "\"\n"));
    expect_only_error(r, "invalid_template", "routes[0].match.paths[0]", 9, 11);
  }
}

TEST(ConfigErrors, InvalidMethodAndHost) {
  auto m = load(with_route("    match: {methods: [GET, \"GE T\"]}\n"));
  expect_only_error(m, "invalid_method", "routes[0].match.methods[1]", 7, 28);

  for (const char* bad : {"api.example.com:8080", "a.*.example.com", "**", "a..b", ".a", "a.",
                          "-a.com", "a_b!.com", "*example.com", "1.2.3.999"}) {
    auto h = load(with_route("    match: {hosts: [\"" + std::string(bad) + "\"]}\n"));
    expect_only_error(h, "invalid_host", "routes[0].match.hosts[0]", 7, 21);
  }
  auto rw = load(with_route("    rewrite: {host: \"bad host\"}\n"));
  expect_only_error(rw, "invalid_host", "routes[0].rewrite.host", 7, 21);
}

TEST(ConfigErrors, InvalidAddress) {
  for (const char* bad : {"10.0.0.1", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:http", "::1:80",
                          "[::1]", "[::zz]:80", "bad_host!:80", ":80", "a..b:80"}) {
    auto r = load(with_upstream("    targets: [\"" + std::string(bad) + "\"]\n"));
    expect_only_error(r, "invalid_address", "upstreams[0].targets[0].address", 3, 15);
  }
  auto listener = load("listeners: {proxy: \"0.0.0.0\"}\n");
  expect_only_error(listener, "invalid_address", "listeners.proxy", 1, 20);

  auto port0 = load("listeners: {proxy: \"127.0.0.1:0\", admin: \"[::1]:0\"}\n");
  EXPECT_TRUE(port0.ok()) << dump(port0);  // port 0 = pick one, for tests
}

TEST(ConfigErrors, InvalidRewrite) {
  auto strip =
      load(with_route("    match: {paths: [\"/a\", \"/u/{id}\"]}\n"
                      "    rewrite: {strip_prefix: true}\n"));
  expect_only_error(strip, "invalid_rewrite", "routes[0].rewrite.strip_prefix", 8, 29);
  EXPECT_NE(strip.errors[0].message.find("routes[0].match.paths[1] is a template"),
            std::string::npos);

  auto lone_regex = load(with_route("    rewrite: {regex: \"^/(.*)$\"}\n"));
  expect_only_error(lone_regex, "invalid_rewrite", "routes[0].rewrite.regex", 7, 22);

  auto lone_repl = load(with_route("    rewrite: {replacement: \"/x\"}\n"));
  expect_only_error(lone_repl, "invalid_rewrite", "routes[0].rewrite.replacement", 7, 28);

  auto bad_group = load(with_route("    rewrite: {regex: \"^/(.*)$\", replacement: \"/\\\\2\"}\n"));
  expect_only_error(bad_group, "invalid_replacement", "routes[0].rewrite.replacement", 7, 46);

  auto host = load(with_route("    rewrite: {host: a.example.com, preserve_host: true}\n"));
  expect_only_error(host, "invalid_rewrite", "routes[0].rewrite.preserve_host", 7, 51);

  auto ok =
      load(with_route("    match: {paths: [\"/api\"]}\n"
                      "    rewrite: {strip_prefix: true, path_prefix: /internal/}\n"));
  EXPECT_TRUE(ok.ok()) << dump(ok);
}

TEST(ConfigErrors, DuplicateTargetAndCredential) {
  auto t = load(with_upstream("    targets: [\"10.0.0.1:80\", \"10.0.0.1:80\"]\n"));
  expect_only_error(t, "duplicate_target", "upstreams[0].targets[1].address", 3, 30);

  auto c = load(
      "consumers:\n"
      "  - name: a\n"
      "    credentials: [{type: key-auth, key: k}]\n"
      "  - name: b\n"
      "    credentials: [{type: key-auth, key: k}]\n");
  expect_only_error(c, "duplicate_credential", "consumers[1].credentials[0].key", 5, 41);
  EXPECT_NE(c.errors[0].message.find("line 3"), std::string::npos);
}

TEST(ConfigErrors, TooDeep) {
  std::string deep = "policies: [{name: p, config: ";
  for (int i = 0; i < 80; ++i) deep += "[";
  for (int i = 0; i < 80; ++i) deep += "]";
  deep += "}]\n";
  auto r = load(deep);
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].code, "too_deep");
  EXPECT_EQ(r.errors[0].pos.line, 1);

  // Beyond yaml-cpp's own recursion guard: an error, not a stack overflow.
  auto huge = load(std::string(100'000, '[') + "\n");
  ASSERT_EQ(huge.errors.size(), 1u) << dump(huge);
  EXPECT_EQ(huge.errors[0].code, "too_deep");
}

TEST(ConfigErrors, AliasBombIsBounded) {
  // Each level references the previous one ten times: 10^9 nodes if expanded.
  std::string doc = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    doc += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) doc += (j ? ", " : "") + prev;
    doc += "]\n";
  }
  // Only the last line is valid config; the anchors above are unknown keys.
  doc += "policies: [{name: p, config: *a9}]\n";
  auto r = load(doc);
  bool too_large = false;
  for (const auto& e : r.errors) too_large |= e.code == "too_large";
  EXPECT_TRUE(too_large) << dump(r);
}

TEST(ConfigErrors, InputsThatHangYamlCppLoadAllTerminate) {
  // yaml-cpp 0.7's LoadAll loops forever on a stray flow token at the start.
  // (it reads the stray token as an empty document; Load does the same, so
  // the loader double-checks documents that come out empty).
  for (const char* text : {",", ",a", "]", "}", ",\n---\n,", "# c\n  , x"}) {
    auto r = load(text);
    ASSERT_EQ(r.errors.size(), 1u) << text << dump(r);
    EXPECT_EQ(r.errors[0].code, "yaml_syntax") << text;
  }
  auto comma = load("# comment\n\n  ,\n");
  expect_only_error(comma, "yaml_syntax", "", 3, 3);
  for (const char* text : {"~\n", "--- # doc\n...\n", "%YAML 1.2\n---\nnull # nothing\n",
                           "\xef\xbb\xbf# bom\n", "!!null\n"}) {
    auto r = load(text);
    EXPECT_TRUE(r.ok()) << text << dump(r);
  }
}

TEST(ConfigErrors, FileNotFound) {
  auto r = load_config_file("/nonexistent/gatehouse.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].code, "file_not_found");
  EXPECT_EQ(r.errors[0].to_string(), "/nonexistent/gatehouse.yaml: no such file");
}

TEST(ConfigErrors, LoadConfigFileReportsItsPath) {
  auto path = std::filesystem::temp_directory_path() /
              ("gatehouse_loader_test_" + std::to_string(getpid()) + ".yaml");
  {
    std::ofstream out(path);
    out << "routes:\n  - name: r\n    upstream: nope\n";
  }
  auto r = load_config_file(path.string());
  std::filesystem::remove(path);
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].to_string(),
            path.string() + ":3:15: routes[0].upstream: unknown upstream \"nope\"");

  auto ok = load_config_file(path.parent_path().string());
  ASSERT_EQ(ok.errors.size(), 1u);
  EXPECT_EQ(ok.errors[0].code, "file_unreadable");
}

TEST(ConfigErrors, AllErrorsAreCollectedInFileOrder) {
  auto r = load(
      "upstreams:\n"                                        // 1
      "  - name: users\n"                                   // 2
      "    targets: [\"10.0.0.1:99999\"]\n"                 // 3
      "    timeouts: {conect: 1s}\n"                        // 4
      "routes:\n"                                           // 5
      "  - name: a\n"                                       // 6
      "    upstream: userz\n"                               // 7
      "    match: {paths: [\"/a//b\"], hosts: [\"*.\"]}\n"  // 8
      "  - name: a\n"                                       // 9
      "    upstream: users\n"                               // 10
      "drain_timeout: soon\n");                             // 11
  ASSERT_EQ(r.errors.size(), 7u) << dump(r);
  std::vector<std::string> codes;
  for (const auto& e : r.errors) codes.push_back(e.code);
  EXPECT_EQ(codes, (std::vector<std::string>{"invalid_address", "unknown_field", "unknown_upstream",
                                             "invalid_path", "invalid_host", "duplicate_name",
                                             "invalid_value"}));
  for (size_t i = 1; i < r.errors.size(); ++i)
    EXPECT_LE(r.errors[i - 1].pos.line, r.errors[i].pos.line);
  EXPECT_EQ(r.errors[0].to_string(),
            "gatehouse.yaml:3:15: upstreams[0].targets[0].address: invalid port \"99999\" "
            "(expected 1-65535)");
}

TEST(ConfigErrors, ToStringFormat) {
  ConfigError e{SourcePos{"a.yaml", 3, 7}, "routes[0].name", "invalid_name", "bad"};
  EXPECT_EQ(e.to_string(), "a.yaml:3:7: routes[0].name: bad");
  ConfigError no_field{SourcePos{"a.yaml", 1, 2}, "", "yaml_syntax", "oops"};
  EXPECT_EQ(no_field.to_string(), "a.yaml:1:2: oops");
  ConfigError no_pos{SourcePos{"", 0, 0}, "listeners.proxy", "invalid_address", "x"};
  EXPECT_EQ(no_pos.to_string(), "<config>: listeners.proxy: x");
}

// ---------------------------------------------------------------- validate() alone

TEST(ConfigValidate, WorksOnConfigsThatNeverWereYaml) {
  Config cfg;
  UpstreamConfig u;
  u.name = "users";
  u.pos = SourcePos{"store", 0, 0};
  u.targets.push_back(TargetConfig{"10.0.0.1:80", "10.0.0.1", 80, 1});
  cfg.upstreams.push_back(u);
  RouteConfig r;
  r.name = "r";
  r.upstream = "users";
  r.pos = SourcePos{"admin", 12, 3};
  r.match.paths.push_back(PathPattern{PathKind::kTemplate, "/u/{id"});
  cfg.routes.push_back(r);
  std::vector<ConfigError> errors;
  validate(cfg, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "invalid_template");
  EXPECT_EQ(errors[0].field, "routes[0].match.paths[0]");
  EXPECT_EQ(errors[0].pos.file, "admin");  // falls back to the entity's position
  EXPECT_EQ(errors[0].pos.line, 12);

  cfg.routes[0].match.paths[0].value = "/u/{id}";
  errors.clear();
  validate(cfg, errors);
  EXPECT_TRUE(errors.empty());
}

TEST(ConfigValidate, SplitHostPort) {
  std::string host, why;
  uint16_t port = 0;
  EXPECT_TRUE(split_host_port("example.com:443", host, port, why));
  EXPECT_EQ(host, "example.com");
  EXPECT_EQ(port, 443);
  EXPECT_TRUE(split_host_port("[2001:db8::1]:8080", host, port, why));
  EXPECT_EQ(host, "2001:db8::1");
  EXPECT_EQ(port, 8080);
  EXPECT_TRUE(split_host_port("0.0.0.0:0", host, port, why));
  EXPECT_EQ(port, 0);
  EXPECT_FALSE(split_host_port("example.com", host, port, why));
  EXPECT_EQ(why, "missing port (expected host:port)");
  EXPECT_FALSE(split_host_port("[::1", host, port, why));
  EXPECT_FALSE(split_host_port("host:-1", host, port, why));
  EXPECT_FALSE(split_host_port("host:+80", host, port, why));
  EXPECT_FALSE(split_host_port("host:080800", host, port, why));
}

TEST(ConfigValidate, DidYouMean) {
  std::vector<std::string> keys = {"paths", "methods", "hosts", "headers", "query", "cookies"};
  EXPECT_EQ(did_you_mean("pahts", keys), " (did you mean \"paths\"?)");
  EXPECT_EQ(did_you_mean("Methods", keys), " (did you mean \"methods\"?)");
  EXPECT_EQ(did_you_mean("cookie", keys), " (did you mean \"cookies\"?)");
  EXPECT_EQ(did_you_mean("header", keys), " (did you mean \"headers\"?)");
  EXPECT_EQ(did_you_mean("xyz", keys), "");
  EXPECT_EQ(did_you_mean("", keys), "");
  EXPECT_EQ(did_you_mean(std::string(500, 'a'), keys), "");
}

}  // namespace
}  // namespace gatehouse::config
