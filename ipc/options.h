// Timeouts and limits of the transport, with the reference agent's defaults.
#ifndef ZEN_IPC_OPTIONS_H_
#define ZEN_IPC_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/time/time.h"
#include "ipc/frame_budget.h"

namespace zen::ipc {

// Defaults of the reference implementation (docs/architecture.md,
// "Timeouts and limits").
inline constexpr absl::Duration kDefaultConnectTimeout = absl::Seconds(2);
inline constexpr absl::Duration kDefaultHandshakeTimeout = absl::Seconds(3);
inline constexpr absl::Duration kDefaultReadTimeout = absl::Seconds(5);
inline constexpr absl::Duration kDefaultWriteTimeout = absl::Seconds(5);
inline constexpr absl::Duration kDefaultReconnectDelay = absl::Seconds(1);

// Ours, where the reference has none: 32 MiB frames at most.
inline constexpr size_t kDefaultMaxFrameSize = size_t{32} << 20;

// The socket under the handshake. Both carry the same handshake, frames and
// envelope, byte for byte.
enum class Transport {
  // TCP on an IPv4 address (127.0.0.1 by default): what the reference speaks.
  kTcp,
  // A Unix-domain stream socket in a fresh 0700 directory: only the owner's
  // processes (and root) can reach it, and the server learns each peer's
  // pid and uid (SO_PEERCRED). Not reachable by a reference peer.
  kUnix,
};

// Limits of one framed connection.
struct StreamOptions {
  // Largest frame body accepted on read and on write. A header declaring more
  // is an error before any body byte is read or allocated.
  size_t max_frame_size = kDefaultMaxFrameSize;
  // Deadline for writing one whole frame.
  absl::Duration write_timeout = kDefaultWriteTimeout;
  // Before sleeping until a message arrives, keep asking for one (without
  // blocking) for up to this long. Off by default. A thread that sleeps is
  // woken by the kernel when the message lands, which across CPUs (and above
  // all on a VM, where an idle vCPU halts) costs far more than the message
  // (docs/benchmarks.md measures it). Spinning through the expected reply
  // time saves that wake-up, at the price of burning this CPU for up to this
  // long per wait. Worth it for a caller whose CPU would idle anyway while
  // it waits and that calls often; wasteful on a CPU shared with the peer
  // (the spinner delays the reply it waits for) and on a server's idle
  // connections.
  absl::Duration spin_before_block = absl::ZeroDuration();
  // Shared by every stream of a server: bounds the bytes their large frames
  // hold together (frame_budget.h). Null: no bound beyond max_frame_size
  // per stream. rpc::Server::Create sets one.
  std::shared_ptr<FrameBudget> frame_budget;
};

}  // namespace zen::ipc

#endif  // ZEN_IPC_OPTIONS_H_
