// Body and head buffers come straight from mmap, not the heap: a burst of
// connections would otherwise leave 32 KiB holes between long-lived small
// objects, and glibc cannot give those pages back, so RSS would stay at the
// peak. munmap returns them at once.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <memory>
#include <new>

namespace gatehouse::net {

struct IoBufferDeleter {
  size_t size = 0;
  void operator()(char* p) const noexcept {
    if (p) ::munmap(p, size);
  }
};

using IoBuffer = std::unique_ptr<char[], IoBufferDeleter>;

inline IoBuffer allocate_io_buffer(size_t size) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return IoBuffer(static_cast<char*>(p), IoBufferDeleter{size});
}

}  // namespace gatehouse::net
