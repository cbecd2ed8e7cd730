// Server::stats(): the server's counters, read without stopping it.
#include "base/mutex.h"
#include "ipc/listener.h"
#include "rpc/server.h"

namespace zen::rpc {

ServerStats Server::stats() const {
  ServerStats s;
  s.calls = counters_.calls.load(std::memory_order_relaxed);
  s.malformed_ignored =
      counters_.malformed_ignored.load(std::memory_order_relaxed);
  s.dropped_non_json =
      counters_.dropped_non_json.load(std::memory_order_relaxed);
  s.rejected_over_limit =
      counters_.rejected_over_limit.load(std::memory_order_relaxed);
  s.handoffs = counters_.reliefs.load(std::memory_order_relaxed);
  s.warnings_suppressed =
      counters_.warnings_suppressed.load(std::memory_order_relaxed);
  s.handoffs_refused =
      counters_.reliefs_refused.load(std::memory_order_relaxed);
  {
    MutexLock lock(&mu_);
    for (const auto& weak : connections_) s.connections += !weak.expired();
  }
  s.refused_no_thread = listener_->refused_no_thread();
  s.thread_start_failures =
      counters_.thread_start_failures.load(std::memory_order_relaxed) +
      s.refused_no_thread;
  s.parked_threads = threads_.parked() + listener_->parked_threads();
  const ipc::FrameBudget& budget = *options_.listener.stream.frame_budget;
  s.large_frames_refused = budget.refused();
  s.large_frame_bytes = budget.held();
  return s;
}

}  // namespace zen::rpc
