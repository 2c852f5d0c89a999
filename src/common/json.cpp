#include "common/json.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/value_stack.hpp>
#include <boost/system/system_error.hpp>
#include <charconv>
#include <cmath>
#include <string>

namespace gatehouse {

namespace json = boost::json;
using boost::system::error_code;

namespace {

// The basic_parser handler: what boost::json::parser does, except that a
// double is taken from its text rather than from the tokenizer's value.
struct ExactHandler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack st;
  std::string number;  // a number's text split across writes (not with one write, kept for safety)

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return true; }
  bool on_object_end(std::size_t n, error_code&) {
    st.push_object(n);
    return true;
  }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t n, error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, error_code&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view s, error_code&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, error_code&) {
    number.clear();
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, error_code&) {
    number.clear();
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view s, error_code& ec) {
    const char* first = s.data();
    const char* last = s.data() + s.size();
    if (!number.empty()) {
      number.append(s.data(), s.size());
      first = number.data();
      last = number.data() + number.size();
    }
    double exact = 0;
    auto [end, err] = std::from_chars(first, last, exact);
    number.clear();
    if (err == std::errc() && end == last) {
      d = exact;
    } else if (!std::isfinite(d)) {
      // 1e400: no double holds it, and Boost.JSON would print it back as
      // `Infinity`, which is not JSON. Refused rather than passed on. (Its
      // tokenizer also makes NaN of 0e400, which from_chars reads as 0.)
      ec = json::error::exponent_overflow;
      return false;
    }  // else underflow (1e-400): the tokenizer's zero stands
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }
};

}  // namespace

json::value parse_json(std::string_view text, error_code& ec, json::storage_ptr sp,
                       const json::parse_options& opt, size_t* consumed) {
  json::basic_parser<ExactHandler> p(opt);
  p.handler().st.reset(std::move(sp));
  std::size_t used = p.write_some(false, text.data(), text.size(), ec);
  if (consumed) *consumed = used;
  if (!ec && used < text.size()) ec = json::error::extra_data;
  if (ec) return nullptr;
  return p.handler().st.release();
}

json::value parse_json(std::string_view text, json::storage_ptr sp,
                       const json::parse_options& opt) {
  error_code ec;
  json::value v = parse_json(text, ec, std::move(sp), opt);
  if (ec) throw boost::system::system_error(ec);
  return v;
}

}  // namespace gatehouse
