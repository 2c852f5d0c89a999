// Internals shared by loader.cpp (OpenAPI 3.x and the common machinery) and
// swagger2.cpp (the 2.0 conversion). Not a public interface.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "apim/openapi/document.hpp"
#include "apim/openapi/loader.hpp"
#include "apim/openapi/source.hpp"

namespace gatehouse::apim::openapi::detail {

// A value and where it lives.
struct Loc {
  const SourceDoc* doc = nullptr;
  const boost::json::value* v = nullptr;
  std::string ptr;
  Loc at(std::string_view key) const;  // child of an object; v null when absent
  Loc at(size_t index) const;          // child of an array
  bool exists() const { return v != nullptr; }
  const boost::json::object* obj() const {
    return v && v->is_object() ? &v->get_object() : nullptr;
  }
  const boost::json::array* arr() const { return v && v->is_array() ? &v->get_array() : nullptr; }
  std::string str(std::string_view key) const;  // "" when absent or not a string
  bool flag(std::string_view key) const;        // false when absent or not a bool
};

class Loader {
 public:
  Loader(const LoadOptions& options) : options_(options) {}
  Result<Document> run(std::string_view text, const std::string& name);

  // Building blocks (public for swagger2.cpp).
  Error fail(const Loc& at, std::string code, std::string message) const;
  // Follows $ref until a value that is not a reference; cycles are errors.
  Result<Loc> deref(Loc at);
  // A schema copied into the model: every $ref inside becomes
  // "#/components/schemas/NAME" (other targets are imported under a new name).
  Result<boost::json::value> import_schema(const Loc& at);
  Result<std::vector<SecurityAlternative>> security(const Loc& at);
  boost::json::object extensions(const Loc& at) const;
  Result<void> require_object(const Loc& at, std::string_view what) const;

  Document out;
  std::shared_ptr<const SourceDoc> root;
  std::string schemas_root;  // "/components/schemas" or "/definitions"

 private:
  Result<Loc> resolve(const Loc& at, std::string_view ref);
  Result<const SourceDoc*> load_file(const Loc& at, const std::string& path);
  Result<boost::json::value> copy_schema(const Loc& at, int depth);
  Result<std::string> schema_name_for(const Loc& ref_site, const Loc& target);
  Result<void> load_openapi3();
  Result<void> load_path_item3(const std::string& path, Loc item);
  Result<Parameter> parameter3(Loc at);
  Result<HeaderSpec> header3(std::string name, Loc at);
  Result<std::vector<MediaType>> content3(const Loc& at);

  const LoadOptions& options_;
  std::map<std::string, std::shared_ptr<const SourceDoc>> files_;
  std::map<std::string, std::string> imported_;  // "file#pointer" -> schema name
  std::set<std::string> names_;
};

// swagger2.cpp
Result<void> load_swagger2(Loader& l);

}  // namespace gatehouse::apim::openapi::detail
