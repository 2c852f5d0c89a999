#include "transcode/query.hpp"

#include "common/percent.hpp"
#include "transcode/path_template.hpp"

namespace gatehouse::transcode {

Result<QueryParams> parse_query(std::string_view query) {
  QueryParams out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    std::string_view piece =
        query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!piece.empty()) {
      size_t eq = piece.find('=');
      std::string_view raw_name = piece.substr(0, eq);
      auto name = percent_decode_strict(raw_name, true);
      if (!name)
        return make_error(
            "bad_query", "query parameter '" + std::string(raw_name) + "' has a malformed %-escape",
            std::string(raw_name), 400);
      auto value = percent_decode_strict(
          eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1), true);
      if (!value)
        return make_error("bad_query", "query parameter '" + *name + "' has a malformed %-escape",
                          *name, 400);
      if (name->empty()) return make_error("bad_query", "query parameter without a name", "", 400);
      out.emplace_back(std::move(*name), std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return out;
}

}  // namespace gatehouse::transcode
