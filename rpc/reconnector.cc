#include "rpc/reconnector.h"

#include "absl/time/time.h"
#include "base/clock.h"
#include "base/log.h"

namespace zen::rpc::internal {

void Reconnector::Run() {
  MutexLock lock(&mu_);
  while (!stopped_) {
    if (!lost_) {
      wake_.Wait(&mu_);
      continue;
    }
    const absl::Time retry_at = zen::Now() + policy_.NextDelay();
    while (!stopped_ && zen::Now() < retry_at) {
      wake_.WaitUntil(&mu_, retry_at);
    }
    if (stopped_) break;
    // Cleared before connecting, so a loss of the new connection reported
    // while reconnect_ returns is not forgotten.
    lost_ = false;
    const absl::Status connected =
        WithUnlocked(&mu_, [this] { return reconnect_(&canceller_); });
    if (!connected.ok()) {
      LogInfo("RPC client: reconnect failed: ", connected.message());
      lost_ = true;
      continue;
    }
    policy_.Reset();
    LogInfo("RPC client connected");
  }
}

void Reconnector::Disconnected() {
  MutexLock lock(&mu_);
  lost_ = true;
  wake_.SignalAll();
}

void Reconnector::Stop() {
  {
    MutexLock lock(&mu_);
    stopped_ = true;
    wake_.SignalAll();
  }
  canceller_.Cancel();
}

}  // namespace zen::rpc::internal
