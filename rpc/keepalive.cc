#include "rpc/keepalive.h"

#include "base/clock.h"
#include "base/log.h"

namespace zen::rpc::internal {

void Keepalive::Run() {
  MutexLock lock(&mu_);
  while (!stopped_) {
    const absl::Time due =
        absl::FromUnixNanos(last_call_ns_.load(std::memory_order_relaxed)) +
        interval_;
    if (zen::Now() < due) {
      wake_.WaitUntil(&mu_, due);
      continue;
    }
    NoteCall(zen::Now());
    const uint64_t generation = hooks_.connection();
    if (generation == 0) continue;
    WithUnlocked(&mu_, [&] {
      const absl::Status pinged = hooks_.ping(interval_);
      if (!pinged.ok() && !absl::IsCancelled(pinged)) {
        LogWarning("keepalive failed: ", pinged.message());
      }
      if (absl::IsDeadlineExceeded(pinged)) hooks_.presume_dead(generation);
    });
  }
}

void Keepalive::Stop() {
  MutexLock lock(&mu_);
  stopped_ = true;
  wake_.SignalAll();
}

}  // namespace zen::rpc::internal
