// Loads a Swagger 2.0, OpenAPI 3.0 or 3.1 document (YAML or JSON) into the
// normalised model (document.hpp), resolving $ref: internal JSON pointers,
// relative files (through a FileReader), chains, and cycles. Errors name the
// file, the JSON pointer and, for YAML, line:column.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "apim/openapi/document.hpp"
#include "common/result.hpp"

namespace gatehouse::apim::openapi {

// Returns the text of the file at `path` (already joined with the referring
// file's folder). Without a reader, references to other files are refused:
// the admin API imports documents sent over the network and must never read
// the server's files.
using FileReader = std::function<Result<std::string>(const std::string& path)>;

struct LoadOptions {
  FileReader reader;
  size_t max_files = 64;  // distinct files one document may pull in
};

// `name` is what errors call the root document (its path for files).
Result<Document> load_document(std::string_view text, const std::string& name,
                               const LoadOptions& options = {});

// Reads `path` and every file it references from the file system.
Result<Document> load_document_file(const std::string& path);

// A FileReader over the file system (any path the process may read).
FileReader filesystem_reader();

}  // namespace gatehouse::apim::openapi
