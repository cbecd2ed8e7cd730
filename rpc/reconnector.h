// Reconnect: the client channel's background retry of a lost connection.
// Internal to rpc::Channel.
#ifndef ZEN_RPC_RECONNECTOR_H_
#define ZEN_RPC_RECONNECTOR_H_

#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "base/mutex.h"
#include "ipc/connect_canceller.h"
#include "ipc/connector.h"

namespace zen::rpc::internal {

// From each Disconnected() until a reconnect succeeds, calls `reconnect`
// after the waits of a ReconnectPolicy (the first at once). `reconnect`
// connects, handing `canceller` to ipc::Connect, and installs the new
// connection; it runs on Run()'s thread with no lock of ours held.
//
// Stop() cancels a connect in progress, so a wedged server cannot hold the
// channel's Stop for the connect and handshake timeouts. Its lock is not
// registered with the fork guard: a forked child never uses the object
// (Channel::AbandonAfterFork leaks it). Thread-safe.
class Reconnector {
 public:
  using ReconnectFn = std::function<absl::Status(ipc::ConnectCanceller*)>;

  Reconnector(const ipc::ReconnectPolicy::Options& policy,
              ReconnectFn reconnect)
      : reconnect_(std::move(reconnect)), policy_(policy) {}
  Reconnector(const Reconnector&) = delete;
  Reconnector& operator=(const Reconnector&) = delete;

  // The thread's body. Returns after Stop().
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  // The connection was lost: Run starts retrying. The caller may hold its
  // own lock (the channel's: lock order channel, then this).
  void Disconnected() ABSL_LOCKS_EXCLUDED(mu_);

  // Makes Run return soon, cancelling a connect in progress. Idempotent;
  // final.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const ReconnectFn reconnect_;
  ipc::ConnectCanceller canceller_;
  Mutex mu_;
  CondVar wake_;  // Disconnected or stopped.
  bool lost_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  ipc::ReconnectPolicy policy_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zen::rpc::internal

#endif  // ZEN_RPC_RECONNECTOR_H_
