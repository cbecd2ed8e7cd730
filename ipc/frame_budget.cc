#include "ipc/frame_budget.h"

namespace zen::ipc {

bool FrameBudget::TryAcquire(size_t bytes) {
  size_t held = held_.load(std::memory_order_relaxed);
  do {
    if (bytes > max_bytes_ || held > max_bytes_ - bytes) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  } while (!held_.compare_exchange_weak(held, held + bytes,
                                        std::memory_order_relaxed));
  return true;
}

void FrameBudget::Release(size_t bytes) {
  held_.fetch_sub(bytes, std::memory_order_relaxed);
}

}  // namespace zen::ipc
