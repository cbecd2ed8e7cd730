// Connector: the client side of the transport, and the reconnection policy.
#ifndef ZEN_IPC_CONNECTOR_H_
#define ZEN_IPC_CONNECTOR_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ipc/options.h"
#include "ipc/secret.h"
#include "ipc/socket_io.h"
#include "ipc/socket_stream.h"

namespace zen::ipc {

struct ConnectorOptions {
  // kTcp connects to host:port; kUnix to the socket at unix_path (a
  // kUnix listener's unix_path(), inherited by fork like the port).
  Transport transport = Transport::kTcp;
  std::string host = kLoopbackHost;
  uint16_t port = 0;
  std::string unix_path;
  absl::Duration connect_timeout = kDefaultConnectTimeout;
  absl::Duration handshake_timeout = kDefaultHandshakeTimeout;
  StreamOptions stream;
};

// Connects (TCP_NODELAY for TCP; close-on-exec), runs the client handshake and
// checks the server's proof. Each step is bounded by its timeout and by
// `deadline`, whichever comes first. Errors: kUnavailable (refused, or the
// server closed on us, which is how it rejects a wrong secret),
// kDeadlineExceeded, kUnauthenticated (the server could not prove it holds the
// secret). With a `canceller`, another thread can end it early: kCancelled.
absl::StatusOr<std::unique_ptr<SocketStream>> Connect(
    const Secret& secret, const ConnectorOptions& options,
    absl::Time deadline = absl::InfiniteFuture(),
    ConnectCanceller* canceller = nullptr);

// When to try again after losing a connection: the first retry at once
// (as the reference does), then `initial_delay`, growing by `multiplier` up to
// `max_delay`, each spread by ±`jitter` (a fraction) so children that lost
// the parent together do not come back in lockstep. Not thread-safe.
class ReconnectPolicy {
 public:
  struct Options {
    absl::Duration initial_delay = kDefaultReconnectDelay;
    double multiplier = 1.0;  // 1.0: the reference's fixed delay.
    absl::Duration max_delay = absl::Seconds(30);
    double jitter = 0.0;  // 0.2 spreads each delay over ±20%.
  };

  ReconnectPolicy() : ReconnectPolicy(Options()) {}
  explicit ReconnectPolicy(const Options& options);

  // The wait before the next attempt.
  absl::Duration NextDelay();
  // After a successful connection: the next loss retries at once again.
  void Reset();

 private:
  Options options_;
  int attempts_ = 0;
  absl::Duration current_;
  // Not absl::BitGen: its seeding takes a process-wide lock, which a child
  // forked mid-seed would inherit held.
  std::minstd_rand rng_;
};

}  // namespace zen::ipc

#endif  // ZEN_IPC_CONNECTOR_H_
