// FrameBudget: a server-wide bound on the bytes held by large frames being
// read and handled. Each connection's frame limit (32 MiB by default) bounds
// one peer; this bounds them together, so that a compromised worker with many
// connections (or many workers) sending large frames at once cannot make the
// parent hold connections times the frame limit.
#ifndef ZEN_IPC_FRAME_BUDGET_H_
#define ZEN_IPC_FRAME_BUDGET_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace zen::ipc {

// Frames up to this many body bytes are not counted: they fit the buffer
// every connection keeps anyway (FrameDecoder's two read chunks).
inline constexpr size_t kUnbudgetedFrameBytes = 128 * 1024;

// Thread-safe; lock-free.
class FrameBudget {
 public:
  // `max_bytes` should be at least the largest frame a peer may send, or
  // that frame is always refused.
  explicit FrameBudget(size_t max_bytes) : max_bytes_(max_bytes) {}
  FrameBudget(const FrameBudget&) = delete;
  FrameBudget& operator=(const FrameBudget&) = delete;

  // Takes `bytes` if they fit under the bound; false (counted) if not.
  bool TryAcquire(size_t bytes);
  // Gives back bytes taken by TryAcquire.
  void Release(size_t bytes);

  size_t max_bytes() const { return max_bytes_; }
  size_t held() const { return held_.load(std::memory_order_relaxed); }
  // Frames refused since construction.
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  const size_t max_bytes_;
  std::atomic<size_t> held_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace zen::ipc

#endif  // ZEN_IPC_FRAME_BUDGET_H_
