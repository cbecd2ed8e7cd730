#include "ipc/connector.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "base/clock.h"
#include "base/status_macros.h"
#include "ipc/handshake.h"
#include "ipc/unix_socket.h"

namespace zen::ipc {

absl::StatusOr<std::unique_ptr<SocketStream>> Connect(
    const Secret& secret, const ConnectorOptions& options, absl::Time deadline,
    ConnectCanceller* canceller) {
  if (secret.empty())
    return absl::FailedPreconditionError("connect: no secret");
  const absl::Time connect_deadline =
      std::min(deadline, zen::Now() + options.connect_timeout);
  ZEN_ASSIGN_OR_RETURN(
      UniqueFd fd,
      options.transport == Transport::kUnix
          ? ConnectUnix(options.unix_path, connect_deadline, canceller)
          : ConnectTcp(options.host, options.port, connect_deadline,
                       canceller));
  const ConnectCanceller::Registration registration(canceller, fd.get());
  if (!registration.ok()) return absl::CancelledError("connect cancelled");
  const absl::Time handshake_deadline =
      std::min(deadline, zen::Now() + options.handshake_timeout);
  absl::Status status = ClientHandshake(fd.get(), secret, handshake_deadline);
  if (!status.ok()) {
    // Our own shutdown(2) ends the handshake as a closed connection would.
    if (canceller != nullptr && canceller->cancelled()) {
      return absl::CancelledError("connect cancelled");
    }
    return status;
  }
  return std::make_unique<SocketStream>(std::move(fd), options.stream);
}

ReconnectPolicy::ReconnectPolicy(const Options& options)
    : options_(options),
      current_(options.initial_delay),
      rng_(static_cast<uint32_t>(absl::ToUnixNanos(zen::Now())) ^
           static_cast<uint32_t>(::getpid())) {}

absl::Duration ReconnectPolicy::NextDelay() {
  if (attempts_++ == 0) return absl::ZeroDuration();
  absl::Duration delay = current_;
  current_ = std::min(options_.max_delay, current_ * options_.multiplier);
  if (options_.jitter > 0) {
    std::uniform_real_distribution<double> spread(1.0 - options_.jitter,
                                                  1.0 + options_.jitter);
    const double factor = spread(rng_);
    delay = delay * factor;
  }
  return delay;
}

void ReconnectPolicy::Reset() {
  attempts_ = 0;
  current_ = options_.initial_delay;
}

}  // namespace zen::ipc
