// Checks of a config file's YAML document as a whole, which yaml-cpp 0.7
// does not make itself: a second document, and stray content read as an
// empty document. Private to the loader.
#include "config/yaml_document.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <sstream>

namespace gatehouse::config::detail {

namespace {

// Notes where a document's first node starts, ignoring empty documents.
class ContentProbe : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> first;
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { note(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    note(m);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    note(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    note(m);
  }
  void OnMapEnd() override {}

 private:
  void note(const YAML::Mark& m) {
    if (!first) first = m;
  }
};

}  // namespace

// Where a second, non-empty document starts, if any. Not YAML::LoadAll: in
// yaml-cpp 0.7 it loops forever on input such as "," (each pass yields an
// empty document without consuming the token), so at most two passes here.
std::optional<YAML::Mark> second_document(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  ContentProbe skip, probe;
  if (!parser.HandleNextDocument(skip)) return std::nullopt;
  if (!parser.HandleNextDocument(probe)) return std::nullopt;
  return probe.first;
}

// yaml-cpp 0.7 reads a stray flow token (",", ",a") at the start of a
// document as an empty document instead of failing. A document that loaded as
// null may only hold comments, directives, markers and a null literal; returns
// the 1-based line and column of anything else.
std::optional<std::pair<int, int>> stray_content(std::string_view text) {
  int line = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(start, end - start);
    ++line;
    start = end + 1;
    if (line == 1 && l.starts_with("\xef\xbb\xbf")) l.remove_prefix(3);  // UTF-8 BOM
    size_t indent = l.find_first_not_of(" \t\r");
    if (indent == std::string_view::npos) continue;
    std::string_view rest = l.substr(indent);
    if (rest.front() == '#' || (indent == 0 && rest.front() == '%')) continue;
    if (indent == 0 && (rest.starts_with("---") || rest.starts_with("..."))) {
      std::string_view after = rest.substr(3);
      if (after.empty() || after.front() == ' ' || after.front() == '\t' || after.front() == '\r') {
        rest = after;
        size_t more = rest.find_first_not_of(" \t\r");
        if (more == std::string_view::npos || rest[more] == '#') continue;
        indent += 3 + more;
        rest = rest.substr(more);
      }
    }
    size_t comment = rest.find(" #");
    std::string_view value = rest.substr(0, comment);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r'))
      value.remove_suffix(1);
    if (value.starts_with("!!null")) {
      value.remove_prefix(6);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (value.empty() || value == "~" || value == "null" || value == "Null" || value == "NULL")
      continue;
    return std::make_pair(line, static_cast<int>(indent) + 1);
  }
  return std::nullopt;
}

}  // namespace gatehouse::config::detail
