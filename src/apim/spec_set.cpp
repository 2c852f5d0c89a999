#include "apim/spec_set.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "apim/openapi/loader.hpp"
#include "policies/crypto.hpp"

namespace gatehouse::apim {

namespace {

Error spec_error(const config::SpecConfig& s, size_t i, std::string_view key, std::string code,
                 std::string message) {
  Error e =
      make_error(std::move(code), std::move(message),
                 "specs[" + std::to_string(i) + "]" + (key.empty() ? "" : ".") + std::string(key),
                 400, ErrorSide::kConfig);
  e.file = s.pos.file;
  e.line = s.pos.line;
  e.column = s.pos.column;
  return e;
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return static_cast<bool>(in) || in.eof();
}

// "1.10" > "1.9", "2024-05-01" > "2023-12-31": runs of digits compare as
// numbers, everything else as text.
bool version_less(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    bool da = std::isdigit(static_cast<unsigned char>(a[i])) != 0;
    bool db = std::isdigit(static_cast<unsigned char>(b[j])) != 0;
    if (da && db) {
      size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      std::string_view na = a.substr(i, ie - i), nb = b.substr(j, je - j);
      while (na.size() > 1 && na.front() == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb.front() == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  if (!path.empty() && path.front() == '/') i = 1;
  while (i <= path.size()) {
    size_t e = path.find('/', i);
    if (e == std::string_view::npos) e = path.size();
    out.push_back(path.substr(i, e - i));
    i = e + 1;
  }
  return out;
}

// One template segment against one request segment. A segment may mix
// literals and parameters ("{name}.json"); each parameter takes at least one
// character, the last literal is matched from the right.
bool match_segment(std::string_view tmpl, std::string_view seg,
                   std::vector<std::pair<std::string, std::string>>& params, int& literals) {
  size_t open = tmpl.find('{');
  if (open == std::string_view::npos) {
    if (tmpl != seg) return false;
    literals += 2;
    return true;
  }
  if (seg.substr(0, open) != tmpl.substr(0, open)) return false;
  literals += open > 0 ? 1 : 0;
  size_t close = tmpl.find('}', open);
  if (close == std::string_view::npos) return false;
  std::string name(tmpl.substr(open + 1, close - open - 1));
  std::string_view rest_t = tmpl.substr(close + 1);
  std::string_view rest_s = seg.substr(open);
  if (rest_t.empty()) {
    if (rest_s.empty()) return false;
    params.emplace_back(std::move(name), std::string(rest_s));
    return true;
  }
  // The next literal run bounds this parameter.
  size_t next = rest_t.find('{');
  std::string_view lit = rest_t.substr(0, next);
  size_t at = next == std::string_view::npos ? rest_s.rfind(lit) : rest_s.find(lit, 1);
  if (at == std::string_view::npos || at == 0) return false;
  if (next == std::string_view::npos && at + lit.size() != rest_s.size()) return false;
  params.emplace_back(std::move(name), std::string(rest_s.substr(0, at)));
  return match_segment(rest_t.substr(lit.size()), rest_s.substr(at + lit.size()), params, literals);
}

}  // namespace

const SpecEntry* SpecSet::find(std::string_view name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

const SpecEntry* SpecSet::find_api(std::string_view api) const {
  const SpecEntry* best = nullptr;
  for (const auto& e : entries_) {
    if (e.api != api) continue;
    if (!best || version_less(best->version, e.version)) best = &e;
  }
  return best;
}

Result<std::shared_ptr<const SpecSet>> SpecSet::build(const std::vector<config::SpecConfig>& specs,
                                                      const SpecSet* previous) {
  auto set = std::make_shared<SpecSet>();
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& s = specs[i];
    SpecEntry e;
    e.name = s.name;
    e.api = s.api;
    e.version = s.version;
    e.upstream = s.upstream;
    e.base_path = s.base_path;
    std::string key;
    if (!s.sha256.empty()) {
      e.document = DocumentCache::instance().find(s.sha256);
      if (!e.document)
        return spec_error(s, i, "", "spec_unavailable",
                          "the document " + s.sha256 + " of spec \"" + s.name +
                              "\" is not loaded from the store");
      key = "sha:" + s.sha256;
    } else {
      std::string text = s.text, origin = "specs[" + std::to_string(i) + "].document";
      if (!s.file.empty()) {
        if (!read_file(s.file, text))
          return spec_error(s, i, "file", "spec_unreadable",
                            "cannot read OpenAPI document file '" + s.file + "'");
        origin = s.file;
      }
      // Files may pull in other files; only the root's text is in the key,
      // so a file spec is reused only when it has no external references.
      key = "text:" + policy::hex(policy::sha256(text));
      if (previous && s.file.empty()) {
        for (size_t j = 0; j < previous->entries_.size(); ++j)
          if (previous->source_keys_[j] == key) e.document = previous->entries_[j].document;
      }
      if (!e.document) {
        openapi::LoadOptions lo;
        if (!s.file.empty()) lo.reader = openapi::filesystem_reader();
        auto doc = openapi::load_document(text, origin, lo);
        if (!doc) {
          Error err = doc.error();
          auto wrapped =
              spec_error(s, i, s.file.empty() ? "document" : "file", "invalid_spec", err.message);
          if (!err.file.empty()) {
            wrapped.message = err.file + (err.line ? ":" + std::to_string(err.line) : "") +
                              (err.column ? ":" + std::to_string(err.column) : "") + ": " +
                              (err.field.empty() ? "" : err.field + ": ") + err.message;
          }
          return wrapped;
        }
        e.document = std::make_shared<const openapi::Document>(std::move(doc.value()));
      }
    }
    set->entries_.push_back(std::move(e));
    set->source_keys_.push_back(std::move(key));
  }
  return std::shared_ptr<const SpecSet>(std::move(set));
}

OperationMatch match_operation(const openapi::Document& d, std::string_view base_path,
                               std::string_view method, std::string_view path) {
  OperationMatch out;
  while (!base_path.empty() && base_path.back() == '/') base_path.remove_suffix(1);
  if (!base_path.empty()) {
    if (path.substr(0, base_path.size()) != base_path) return out;
    path.remove_prefix(base_path.size());
    if (!path.empty() && path.front() != '/') return out;
    if (path.empty()) path = "/";
  }
  size_t q = path.find_first_of("?#");
  if (q != std::string_view::npos) path = path.substr(0, q);
  auto req = segments(path);
  // The best path template: most literal characters matched wins, so fixed
  // segments beat parameters wherever they sit.
  std::string_view best_path;
  int best_score = -1;
  for (const auto& op : d.operations) {
    if (op.path == best_path) continue;
    auto tmpl = segments(op.path);
    if (tmpl.size() != req.size()) continue;
    std::vector<std::pair<std::string, std::string>> params;
    int score = 0;
    bool ok = true;
    for (size_t i = 0; i < tmpl.size() && ok; ++i)
      ok = match_segment(tmpl[i], req[i], params, score);
    if (ok && score > best_score) {
      best_score = score;
      best_path = op.path;
    }
  }
  if (best_score < 0) return out;
  out.path_known = true;
  for (const auto& op : d.operations) {
    if (op.path != best_path) continue;
    out.allowed_methods.push_back(op.method);
    bool same = op.method.size() == method.size() &&
                std::equal(op.method.begin(), op.method.end(), method.begin(), [](char a, char b) {
                  return std::toupper(static_cast<unsigned char>(a)) ==
                         std::toupper(static_cast<unsigned char>(b));
                });
    if (same && !out.operation) {
      out.operation = &op;
      auto tmpl = segments(op.path);
      int ignored = 0;
      for (size_t i = 0; i < tmpl.size(); ++i)
        match_segment(tmpl[i], req[i], out.path_params, ignored);
    }
  }
  return out;
}

const openapi::Operation* find_operation(const openapi::Document& d,
                                         std::string_view operation_id) {
  for (const auto& op : d.operations)
    if (op.operation_id == operation_id) return &op;
  return nullptr;
}

struct DocumentCache::Impl {
  mutable std::mutex mu;
  std::map<std::string, std::shared_ptr<const openapi::Document>> docs;
};

DocumentCache::DocumentCache() : impl_(std::make_shared<Impl>()) {}

DocumentCache& DocumentCache::instance() {
  static DocumentCache cache;
  return cache;
}

std::shared_ptr<const openapi::Document> DocumentCache::find(const std::string& sha256) const {
  std::lock_guard g(impl_->mu);
  auto it = impl_->docs.find(sha256);
  return it == impl_->docs.end() ? nullptr : it->second;
}

void DocumentCache::put(const std::string& sha256, std::shared_ptr<const openapi::Document> doc) {
  std::lock_guard g(impl_->mu);
  impl_->docs[sha256] = std::move(doc);
}

void DocumentCache::retain(const std::vector<std::string>& keep) {
  std::lock_guard g(impl_->mu);
  for (auto it = impl_->docs.begin(); it != impl_->docs.end();) {
    if (std::find(keep.begin(), keep.end(), it->first) == keep.end())
      it = impl_->docs.erase(it);
    else
      ++it;
  }
}

Result<void> prime_documents(const std::vector<config::SpecConfig>& specs,
                             const DocumentFetch& fetch) {
  auto& cache = DocumentCache::instance();
  for (const auto& s : specs) {
    if (s.sha256.empty() || cache.find(s.sha256)) continue;
    auto text = fetch(s.sha256);
    if (!text) return text.error();
    auto doc = openapi::load_document(*text, s.name);
    if (!doc) return doc.error();
    cache.put(s.sha256, std::make_shared<const openapi::Document>(std::move(doc.value())));
  }
  return Ok{};
}

}  // namespace gatehouse::apim
