// A worker-local free list of objects that keep their capacity between uses.
//
// Why: a parsed message head is a vector of header strings. Built fresh for
// every request it costs an allocation for the vector and one for every value
// longer than the small-string buffer (Date, User-Agent, cookies), then as many
// frees: a sixth of the allocations of a proxied request. Handed back and
// reused, the parser assigns into storage that is already there.
//
// Single-threaded like everything a worker owns: take() and the lease's
// return run on the worker's thread. A returned object the `keep` test
// rejects (it grew too big to be worth pinning) is freed instead.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace gatehouse::net {

template <class T>
class Recycler {
 public:
  using Keep = bool (*)(const T&);

  // `max_free` bounds the idle objects held; `keep` decides whether a
  // returned object goes back on the list.
  explicit Recycler(size_t max_free, Keep keep = nullptr) : max_free_(max_free), keep_(keep) {}
  Recycler(const Recycler&) = delete;
  Recycler& operator=(const Recycler&) = delete;

  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& o) noexcept : owner_(std::exchange(o.owner_, nullptr)), obj_(std::move(o.obj_)) {}
    Lease& operator=(Lease&& o) noexcept {
      if (this != &o) {
        give_back();
        owner_ = std::exchange(o.owner_, nullptr);
        obj_ = std::move(o.obj_);
      }
      return *this;
    }
    ~Lease() { give_back(); }

    T& operator*() const { return *obj_; }
    T* operator->() const { return obj_.get(); }
    T* get() const { return obj_.get(); }

   private:
    friend class Recycler;
    Lease(Recycler* owner, std::unique_ptr<T> obj) : owner_(owner), obj_(std::move(obj)) {}
    void give_back() {
      if (owner_ && obj_) owner_->put(std::move(obj_));
      owner_ = nullptr;
    }
    Recycler* owner_ = nullptr;
    std::unique_ptr<T> obj_;
  };

  // An object as the last user left it (callers reset what they read), or a
  // new one.
  Lease take() {
    if (free_.empty()) return Lease(this, std::make_unique<T>());
    std::unique_ptr<T> obj = std::move(free_.back());
    free_.pop_back();
    return Lease(this, std::move(obj));
  }

  size_t idle() const { return free_.size(); }

 private:
  void put(std::unique_ptr<T> obj) {
    if (free_.size() >= max_free_ || (keep_ && !keep_(*obj))) return;  // freed here
    free_.push_back(std::move(obj));
  }

  size_t max_free_;
  Keep keep_;
  std::vector<std::unique_ptr<T>> free_;
};

}  // namespace gatehouse::net
