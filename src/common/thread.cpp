#include "common/thread.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "common/log.hpp"

namespace gatehouse {

void name_this_thread(std::string_view name) {
  std::string n(name.substr(0, 15));
  pthread_setname_np(pthread_self(), n.c_str());
}

void make_this_thread_background(std::string_view name) {
  name_this_thread(name);
  // PRIO_PROCESS with a thread id sets that thread's nice value alone.
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19) != 0) {
    static std::atomic<bool> told{false};
    if (!told.exchange(true))
      log::warn("cannot lower a background thread's priority",
                {log::f("thread", std::string(name)), log::f("error", std::strerror(errno))});
  }
}

}  // namespace gatehouse
