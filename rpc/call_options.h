// Per-call options of the client.
#ifndef ZEN_RPC_CALL_OPTIONS_H_
#define ZEN_RPC_CALL_OPTIONS_H_

#include "absl/time/time.h"
#include "base/clock.h"

namespace zen::rpc {

// The default bound of a call (the reference's read timeout).
inline constexpr absl::Duration kDefaultCallTimeout = absl::Seconds(5);

struct CallOptions {
  // Absolute deadline of the call. Unset (InfiniteFuture) means the channel's
  // default timeout from the moment of the call: every call is bounded.
  absl::Time deadline = absl::InfiniteFuture();
  // While disconnected, a call normally fails at once with kUnavailable; with
  // this set it waits for the connection until its deadline instead.
  bool wait_for_ready = false;

  static CallOptions WithTimeout(absl::Duration timeout) {
    CallOptions options;
    options.deadline = zen::Now() + timeout;
    return options;
  }
  static CallOptions WithDeadline(absl::Time deadline) {
    CallOptions options;
    options.deadline = deadline;
    return options;
  }
};

}  // namespace zen::rpc

#endif  // ZEN_RPC_CALL_OPTIONS_H_
