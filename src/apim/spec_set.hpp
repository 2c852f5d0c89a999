// The OpenAPI documents a running config refers to by name: `specs:` entries
// of a YAML file and the deployed revisions of managed API versions. Loaded
// once per snapshot (store documents once per process: they are
// content-addressed), then shared read-only by request validation, mock
// routes and REST-to-MCP tools.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apim/openapi/document.hpp"
#include "common/result.hpp"
#include "config/entities.hpp"

namespace gatehouse::apim {

struct SpecEntry {
  std::string name;          // specs[].name, or "API@VERSION" for a deployed API version
  std::string api, version;  // the managed API and version; "" for specs: entries
  std::string upstream;      // upstream name the deployed routes use; "" when none/unknown
  std::string base_path;     // prefix the deployed routes carry ("/v1"), "" for none
  std::shared_ptr<const openapi::Document> document;  // never null
};

class SpecSet {
 public:
  const SpecEntry* find(std::string_view name) const;     // nullptr when unknown
  const SpecEntry* find_api(std::string_view api) const;  // highest deployed version of an API
  const std::vector<SpecEntry>& entries() const { return entries_; }

  // Loads every spec of the config. Errors name the field ("specs[1].file")
  // and carry the entry's position. `previous` lends documents whose source
  // did not change (same file text or same store hash).
  static Result<std::shared_ptr<const SpecSet>> build(const std::vector<config::SpecConfig>& specs,
                                                      const SpecSet* previous = nullptr);

 private:
  std::vector<SpecEntry> entries_;
  std::vector<std::string> source_keys_;  // per entry: what its document was loaded from
};

// Matches a request against a document's operations: `base_path` is stripped
// from `path` first (no match when it is not a prefix), then the path
// templates are compared segment by segment, literal segments before
// templated ones ("/pets/mine" wins over "/pets/{id}").
struct OperationMatch {
  const openapi::Operation* operation = nullptr;                 // null: no match
  bool path_known = false;                                       // true + null operation => 405
  std::vector<std::string> allowed_methods;                      // for the Allow header
  std::vector<std::pair<std::string, std::string>> path_params;  // raw (still percent-encoded)
};
OperationMatch match_operation(const openapi::Document& d, std::string_view base_path,
                               std::string_view method, std::string_view path);

// By operationId; nullptr when none has it.
const openapi::Operation* find_operation(const openapi::Document& d, std::string_view operation_id);

// Store documents by hash, parsed, shared across snapshots. The admin API
// primes it when it deploys a revision (so validating the commit never reads
// the store from inside the store's own transaction) and the server fills it
// before building a snapshot from the store.
class DocumentCache {
 public:
  static DocumentCache& instance();
  std::shared_ptr<const openapi::Document> find(const std::string& sha256) const;
  void put(const std::string& sha256, std::shared_ptr<const openapi::Document> doc);
  // Drops every document not in `keep` (called with the hashes a config uses).
  void retain(const std::vector<std::string>& keep);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  DocumentCache();
};

// Loads into the cache every store document `specs` names and the cache
// lacks, through `fetch` (hash -> text). The first failure is returned.
using DocumentFetch = std::function<Result<std::string>(const std::string& sha256)>;
Result<void> prime_documents(const std::vector<config::SpecConfig>& specs,
                             const DocumentFetch& fetch);

}  // namespace gatehouse::apim
