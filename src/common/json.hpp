// JSON text to boost::json::value with exact numbers. Boost.JSON 1.81's
// parser rounds many doubles wrongly: about one in ten values printed with
// their 17 significant digits (what Boost.JSON itself, protobuf's JSON and
// most providers print) comes back one unit in the last place off, and a
// 120-digit number drifts on every parse and print. A gateway that parses
// and prints a message on the way must not change the numbers in it, so
// every parse in the product goes through here: Boost.JSON's own tokenizer
// and value building, with each double re-read from its text by
// std::from_chars (correctly rounded). Same signatures and errors as
// boost::json::parse.
#pragma once

#include <boost/json/parse_options.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <string_view>

namespace gatehouse {

// `consumed`, when given, is where parsing stopped: the end of the text, or
// the offset of the error (for a line and column in the message).
boost::json::value parse_json(std::string_view text, boost::system::error_code& ec,
                              boost::json::storage_ptr sp = {},
                              const boost::json::parse_options& opt = {},
                              size_t* consumed = nullptr);

// Throws boost::system::system_error on malformed text, like
// boost::json::parse.
boost::json::value parse_json(std::string_view text, boost::json::storage_ptr sp = {},
                              const boost::json::parse_options& opt = {});

}  // namespace gatehouse
