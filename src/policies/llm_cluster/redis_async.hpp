// An asynchronous Redis client for the worker's io_context: what the LLM
// token limits and budgets use to reserve cluster-wide in one round trip
// (a Lua script run atomically by Redis) without blocking the worker.
// Commands are formatted and replies parsed by hiredis (its RESP reader; no
// parser of ours), bytes move over an Asio socket. Connections are kept per
// io_context and endpoint (an Asio service, like the provider connections),
// one command in flight per connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "net/asio.hpp"
#include "policies/rate_limit/redis_store.hpp"

namespace gatehouse::policy::llm_cluster {

struct RedisValue {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray } type = Type::kNil;
  int64_t integer = 0;
  std::string str;  // string, status or error text
  std::vector<RedisValue> array;
};

// One command (argv) on a pooled connection; errors: redis_unreachable,
// redis_timeout, redis_error (the server's error reply, e.g. NOSCRIPT).
awaitable<Result<RedisValue>> redis_command(const rate_limit::RedisEndpoint& ep,
                                            std::vector<std::string> argv);

// A Lua script: EVALSHA, and EVAL when the server does not have it yet.
struct Script {
  explicit Script(std::string text);
  std::string text;
  std::string sha1;  // hex
};
awaitable<Result<RedisValue>> redis_eval(const rate_limit::RedisEndpoint& ep, const Script& s,
                                         const std::vector<std::string>& keys,
                                         const std::vector<std::string>& args);

}  // namespace gatehouse::policy::llm_cluster
