// Threads other than the workers. Every thread gets a name (`top -H`, `ps
// -L`, perf and gdb show it; the kernel keeps 15 bytes). Threads doing
// bookkeeping off the request path (usage records, quota state, the store's
// change feed, JWKS refresh) also run at the lowest priority: on a core
// shared with a worker, a flush of a second's usage records took 3-16 ms of
// CPU, and at equal priority the scheduler let it run whole slices while the
// worker's wakeups waited (a p99 of several milliseconds at 5,000 req/s).
// At nice 19 a waking worker preempts it at once; it still gets its share
// of an idle or lightly loaded core, and on a saturated one its bounded
// buffers drop (and count) rather than slow requests down.
#pragma once

#include <string_view>

namespace gatehouse {

// Names the calling thread (truncated to 15 bytes).
void name_this_thread(std::string_view name);

// Names the calling thread and lowers its priority to nice 19 (Linux
// priorities are per thread). Failure only costs the priority: logged once.
void make_this_thread_background(std::string_view name);

}  // namespace gatehouse
