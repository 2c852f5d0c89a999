// Threads other than the workers. Every thread gets a name (`top -H`, `ps
// -L`, perf and gdb show it; the kernel keeps 15 bytes). Threads doing
// bookkeeping off the request path (usage records, quota state, the store's
// change feed, JWKS refresh) also run at the lowest priority: on a core
// shared with a worker, a flush of a second's usage records took 3-16 ms of
// CPU, and at equal priority the scheduler let it run whole slices while the
// worker's wakeups waited (a p99 of several milliseconds at 5,000 req/s).
// At nice 19 a waking worker preempts it at once (measured: the worker's
// wait behind it fell from 43 ms to under 2 ms in 4 s at 5,000 req/s); it
// still gets an idle or lightly loaded core, and one that falls behind on a
// saturated core returns to normal priority until it has caught up.
#pragma once

#include <string_view>

namespace gatehouse {

// Names the calling thread (truncated to 15 bytes).
void name_this_thread(std::string_view name);

// Names the calling thread and lowers its priority to nice 19 (Linux
// priorities are per thread). Failure only costs the priority: logged once.
void make_this_thread_background(std::string_view name);

// Moves the calling background thread between nice 19 and nice 0: a thread
// whose backlog grows (a saturated core gives nice 19 about 1.5% of it) is
// better served at normal priority until it has caught up than dropping
// work. No system call when the priority does not change.
void set_this_thread_background(bool background);

}  // namespace gatehouse
