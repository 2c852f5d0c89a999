// The JSON value a plain (unquoted) YAML scalar stands for, by the YAML 1.2
// core schema (what OpenAPI and our config files mean by YAML): "yes" and "on"
// stay strings; null/true/false in their three spellings; integers that fit
// int64; decimal and exponent floats. Shared by the config bridge and the
// OpenAPI loader so a document reads the same wherever it comes in.
#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace gatehouse {

enum class BigIntegers {
  kString,  // keep digits beyond int64 as text (ids, config values)
  kDouble,  // JSON's reading: a number, rounded (OpenAPI documents)
};

boost::json::value yaml_plain_scalar(const std::string& s, BigIntegers big);

}  // namespace gatehouse
