#pragma once

#include <algorithm>
#include <cstdint>

namespace gatehouse::net {

// Whether reading after the ready work (read_after_ready_work) pays, for one
// kind of read on one worker, learnt from how the tries went: a try that
// finds the bytes saves an EAGAIN recv; one that finds nothing costs a second
// trip through the handler queue, which is latency. Small responses at 50
// and 500 connections find their bytes 99% of the time (+5 to 7% requests/s,
// bench/ab.sh); 64 KiB responses 10 to 45%, and deferring them put the p99 at
// 500 connections at 1.39x. So: defer while more than four tries in five hit
// (a miss weighs four hits); else read at once, and defer one read in 128 to
// notice when that changes (rarely enough to stay out of the p99).
// One worker thread only.
class ReadDeferral {
 public:
  static constexpr int kLimit = 16;      // how much history weighs
  static constexpr int kMissWeight = 4;  // hits a miss cancels
  static constexpr uint32_t kProbeEvery = 128;

  bool should_defer() {
    if (score_ >= 0) return true;
    return ++skipped_ % kProbeEvery == 0;
  }
  void record(bool hit) {
    score_ = hit ? std::min(score_ + 1, kLimit) : std::max(score_ - kMissWeight, -kLimit);
  }
  int score() const { return score_; }

 private:
  int score_ = 0;
  uint32_t skipped_ = 0;
};

}  // namespace gatehouse::net
