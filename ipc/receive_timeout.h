// ReceiveTimeout: how SocketStream waits for bytes until a deadline.
#ifndef ZEN_IPC_RECEIVE_TIMEOUT_H_
#define ZEN_IPC_RECEIVE_TIMEOUT_H_

#include <sys/time.h>

#include <algorithm>

#include "absl/time/time.h"

namespace zen::ipc {

// SocketStream waits for a message the way a plain blocking ping-pong does:
// one recv(2) that blocks, bounded by the socket's SO_RCVTIMEO, rather than
// poll(2) and then recv(2), which costs a syscall and a timer more per
// message. This class plans each wait and remembers the SO_RCVTIMEO in
// place. Its rules:
//
// * The last part of a wait is polled. SO_RCVTIMEO runs on the kernel's
//   coarse timer wheel, which may fire a timeout up to ~1/8 of its length
//   late (docs/benchmarks.md has the measurement); poll(2) keeps a deadline
//   to the millisecond. So a recv blocks for the wait minus a tail (a
//   quarter of the wait, at least kPolledTail), and the tail is polled.
//   Waits too short to block for kShortestBlock are polled whole (a zero
//   timeval would mean "no timeout", and so short a wait is not worth a
//   setsockopt).
//
// * The timer is re-armed (setsockopt) only when the one in place is wrong
//   for this wait, so that calls made with the usual timeout, whose waits
//   differ by a little each time, make no syscall for it. Wrong is:
//   - too long: it could fire after the deadline. One at most tail/4 longer
//     than planned is kept: even 1/8 late it fires before the deadline,
//     since with tail >= wait/4 it ends by (1 - 3/16) * 9/8 = 117/128 of the
//     wait;
//   - much too short: more than max(planned/4, kShortSlack) shorter. One a
//     little short only makes the recv time out early once, and the next
//     plan finds it still usable or re-arms it.
//
// Not thread-safe: one reader uses it.
class ReceiveTimeout {
 public:
  // The polled tail of a wait is a quarter of it, and at least this long.
  static constexpr absl::Duration kPolledTail = absl::Milliseconds(50);
  // A blocking recv shorter than this is not planned: the wait is polled.
  static constexpr absl::Duration kShortestBlock = absl::Milliseconds(1);
  // How much shorter than planned a timeout in place may be, at least.
  static constexpr absl::Duration kShortSlack = absl::Milliseconds(100);

  struct Plan {
    // Poll (and recv without blocking) until the deadline; the fields
    // below are then unused.
    bool poll = false;
    // Set SO_RCVTIMEO to `timeout` before the blocking recv; then Armed().
    bool arm = false;
    absl::Duration timeout;  // Infinite: none.
  };

  // Plans a wait with `left` to go (InfiniteDuration(): no deadline).
  Plan PlanWait(absl::Duration left) const {
    Plan plan;
    if (left == absl::InfiniteDuration()) {
      plan.timeout = absl::InfiniteDuration();
      plan.arm = armed_ != absl::InfiniteDuration();
      return plan;
    }
    const absl::Duration tail = std::max(kPolledTail, left / 4);
    plan.timeout = left - tail;
    if (plan.timeout < kShortestBlock) {
      plan.poll = true;
      return plan;
    }
    plan.arm = armed_ > plan.timeout + tail / 4 ||
               armed_ < plan.timeout - std::max(plan.timeout / 4, kShortSlack);
    return plan;
  }

  // SO_RCVTIMEO is now `timeout`.
  void Armed(absl::Duration timeout) { armed_ = timeout; }

  // SO_RCVTIMEO's value for `timeout`: a zero timeval is "no timeout",
  // which is what an infinite one means.
  static timeval ToTimeval(absl::Duration timeout) {
    return timeout == absl::InfiniteDuration() ? timeval{0, 0}
                                               : absl::ToTimeval(timeout);
  }

 private:
  // The kernel's initial SO_RCVTIMEO is none.
  absl::Duration armed_ = absl::InfiniteDuration();
};

}  // namespace zen::ipc

#endif  // ZEN_IPC_RECEIVE_TIMEOUT_H_
