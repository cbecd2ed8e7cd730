// Keepalive: the client channel's ping when it has been idle. Internal to
// rpc::Channel.
#ifndef ZEN_RPC_KEEPALIVE_H_
#define ZEN_RPC_KEEPALIVE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/mutex.h"

namespace zen::rpc::internal {

// The server closes a connection that sends nothing for its idle timeout,
// so a channel with no calls for `interval` pings; and a server that cannot
// answer a ping within `interval` is taken for dead, so the channel drops
// the connection and reconnects instead of sending calls into it.
//
// Its lock is not registered with the fork guard: a forked child never uses
// the object (Channel::AbandonAfterFork leaks it). Thread-safe.
class Keepalive {
 public:
  struct Hooks {
    // The live connection's generation; 0 while there is none.
    std::function<uint64_t()> connection;
    // Makes one `ping` call with this timeout; its status.
    std::function<absl::Status(absl::Duration timeout)> ping;
    // Drops connection `generation`: a ping on it timed out.
    std::function<void(uint64_t generation)> presume_dead;
  };

  Keepalive(absl::Duration interval, Hooks hooks)
      : interval_(interval), hooks_(std::move(hooks)) {
    NoteCall(zen::Now());
  }
  Keepalive(const Keepalive&) = delete;
  Keepalive& operator=(const Keepalive&) = delete;

  // A call was made at `now`: the next ping is due `interval` later. A
  // relaxed store, for the channel's hot path.
  void NoteCall(absl::Time now) {
    last_call_ns_.store(absl::ToUnixNanos(now), std::memory_order_relaxed);
  }

  // The thread's body: pings whenever no call was made for `interval`
  // (while there is no connection, counts the interval again). Returns
  // after Stop().
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  // Makes Run return soon (a ping in flight ends with the channel's Stop).
  // Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const absl::Duration interval_;
  const Hooks hooks_;
  std::atomic<int64_t> last_call_ns_{0};
  Mutex mu_;
  CondVar wake_;  // Stopped.
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace zen::rpc::internal

#endif  // ZEN_RPC_KEEPALIVE_H_
