// Control-thread tasks per upstream: active HTTP health checks and DNS
// (re-)resolution. Each task holds a weak_ptr and ends when the upstream is
// no longer used by any snapshot or request.
#pragma once

#include <memory>

#include "net/asio.hpp"

namespace gatehouse::proxy {

struct UpstreamShared;

// Starts the tasks once per UpstreamShared (idempotent).
void start_upstream_tasks(asio::io_context& control, const std::shared_ptr<UpstreamShared>& up);

}  // namespace gatehouse::proxy
