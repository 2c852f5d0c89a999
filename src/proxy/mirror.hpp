// Shadow traffic: a copy of a request sent to another upstream in a detached
// coroutine. The copy's answer is read and dropped; failures only count in
// metrics. The primary request never waits for it.
#pragma once

#include <memory>
#include <string>

namespace gatehouse::net {
class Worker;
struct WorkerUpstream;
}  // namespace gatehouse::net

namespace gatehouse::proxy {

// `head` is a complete HTTP/1.1 request head without a Host line (the Host
// is the target this picks); `body` the whole (already buffered) body.
void spawn_mirror(net::Worker& worker, std::shared_ptr<net::WorkerUpstream> wu, std::string head,
                  std::string body);

}  // namespace gatehouse::proxy
