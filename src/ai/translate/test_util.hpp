// Helpers for the ai/translate tests: fixtures from tests/fixtures/ai and golden files.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <utility>

#include "ai/translate/stream.hpp"
#include "ai/translate/translate.hpp"

namespace gatehouse::ai::testing {

inline std::string fixture_path(const std::string& rel) {
  return std::string(GATEHOUSE_SOURCE_DIR) + "/tests/fixtures/ai/" + rel;
}

inline std::string read_fixture(const std::string& rel) {
  std::ifstream in(fixture_path(rel), std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << rel;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Compares `actual` with the golden file; GATEHOUSE_UPDATE_GOLDEN=1 rewrites it instead
// (review the diff before committing).
inline void expect_golden(const std::string& rel, const std::string& actual) {
  if (std::getenv("GATEHOUSE_UPDATE_GOLDEN")) {
    std::ofstream out(fixture_path(rel), std::ios::binary);
    out << actual;
    return;
  }
  EXPECT_EQ(read_fixture(rel), actual) << "golden " << rel
                                        << " differs (GATEHOUSE_UPDATE_GOLDEN=1 rewrites it)";
}

inline boost::json::object obj(const std::string& text) {
  return boost::json::parse(text).as_object();
}

// Runs a whole provider stream through a translator, in one chunk or in `step`-byte chunks.
struct Translated {
  std::string out;
  Usage usage;
  bool partial = false;
  bool feed_ok = true;
};

inline Translated translate_stream(Format provider, Format client, const std::string& body,
                                   size_t step = 0, bool include_usage = true,
                                   bool passthrough = false) {
  StreamOptions opt;
  opt.encoder.created = 1700000000;
  opt.encoder.include_usage = include_usage;
  opt.passthrough_same_format = passthrough;
  StreamTranslator t(provider, client, opt);
  Translated r;
  if (step == 0) step = body.size() ? body.size() : 1;
  for (size_t pos = 0; pos < body.size(); pos += step) {
    if (!t.feed(std::string_view(body).substr(pos, step), r.out).ok()) r.feed_ok = false;
  }
  t.finish(r.out);
  r.usage = t.usage();
  r.partial = t.partial();
  return r;
}

// Every provider stream fixture into every client format against its golden
// (`expected/<golden>.<chat|messages|responses>.sse`); the stream read back
// keeps the partial mark, and feeding it in small pieces gives the same bytes.
inline void expect_stream_goldens(
    Format provider, std::initializer_list<std::pair<const char*, const char*>> cases) {
  const std::pair<Format, const char*> clients[] = {
      {Format::kChat, "chat"}, {Format::kMessages, "messages"}, {Format::kResponses, "responses"}};
  for (const auto& [fixture, golden] : cases) {
    std::string body = read_fixture(fixture);
    for (const auto& [client, suffix] : clients) {
      SCOPED_TRACE(std::string(fixture) + " -> " + suffix);
      Translated t = translate_stream(provider, client, body);
      expect_golden(std::string("expected/") + golden + "." + suffix + ".sse", t.out);
      Response back = collect_stream(client, t.out).value();
      EXPECT_EQ(back.usage.partial, t.partial);
      EXPECT_EQ(translate_stream(provider, client, body, 1).out, t.out);
      EXPECT_EQ(translate_stream(provider, client, body, 7).out, t.out);
    }
  }
}

inline WriteOptions fixed_options() {
  WriteOptions o;
  o.created = 1700000000;
  return o;
}

}  // namespace gatehouse::ai::testing
