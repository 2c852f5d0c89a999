// Result<T>: the data plane's error channel (no exceptions on hot paths).
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace gatehouse {

// Which side of the proxy an error belongs to; drives status codes and logs.
enum class ErrorSide { kDownstream, kUpstream, kInternal, kConfig };

struct Error {
  std::string code;     // stable machine-readable code, e.g. "bad_header_name"
  std::string message;  // precise human-readable text
  std::string field;    // field path (config) or header name (HTTP), may be empty
  int status = 0;       // HTTP status to answer with, 0 when not an HTTP error
  ErrorSide side = ErrorSide::kInternal;
  bool retry_safe = false;  // true when nothing reached the upstream yet
  std::string file;         // config errors: where the offending entity is
  int line = 0;
  int column = 0;
};

inline Error make_error(std::string code, std::string message, std::string field = {},
                        int status = 0, ErrorSide side = ErrorSide::kInternal) {
  Error e;
  e.code = std::move(code);
  e.message = std::move(message);
  e.field = std::move(field);
  e.status = status;
  e.side = side;
  return e;
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Ok) {}  // NOLINT implicit
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT implicit
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { assert(failed_); return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

}  // namespace gatehouse
