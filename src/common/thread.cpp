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

namespace {

thread_local int current_nice = 0;

void set_nice(int nice) {
  if (nice == current_nice) return;
  // PRIO_PROCESS with a thread id sets that thread's nice value alone.
  // Raising it back to 0 needs CAP_SYS_NICE (or RLIMIT_NICE); without it the
  // thread stays at 19, which costs only its pace.
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice) != 0) {
    static std::atomic<bool> told{false};
    if (!told.exchange(true)) {
      char name[16] = {};
      pthread_getname_np(pthread_self(), name, sizeof name);
      log::warn(
          "cannot change a background thread's priority",
          {log::f("thread", name), log::n("nice", nice), log::f("error", std::strerror(errno))});
    }
    return;
  }
  current_nice = nice;
}

}  // namespace

void make_this_thread_background(std::string_view name) {
  name_this_thread(name);
  set_nice(19);
}

void set_this_thread_background(bool background) {
  set_nice(background ? 19 : 0);
}

}  // namespace gatehouse
