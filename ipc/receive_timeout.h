// ReceiveTimeout: how SocketStream waits for bytes until a deadline.
#ifndef ZEN_IPC_RECEIVE_TIMEOUT_H_
#define ZEN_IPC_RECEIVE_TIMEOUT_H_

#include <sys/time.h>

#include <algorithm>
#include <cstdint>
#include <limits>

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
  static constexpr int64_t kPolledTailNs = 50'000'000;
  static constexpr absl::Duration kPolledTail =
      absl::Nanoseconds(kPolledTailNs);
  // A blocking recv shorter than this is not planned: the wait is polled.
  static constexpr int64_t kShortestBlockNs = 1'000'000;
  static constexpr absl::Duration kShortestBlock =
      absl::Nanoseconds(kShortestBlockNs);
  // How much shorter than planned a timeout in place may be, at least.
  static constexpr int64_t kShortSlackNs = 100'000'000;
  static constexpr absl::Duration kShortSlack =
      absl::Nanoseconds(kShortSlackNs);

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
    if (left == absl::InfiniteDuration()) return PlanWithoutDeadline();
    return PlanNanos(absl::ToInt64Nanoseconds(left));
  }

  // Plans a wait from `now` until `deadline` (InfiniteFuture(): none). The
  // same plan as PlanWait(deadline - now), in integer nanoseconds: absl's
  // Duration arithmetic is out of line and costs a few hundred instructions
  // per call, which this runs for every message a socket waits for.
  Plan PlanWaitUntil(absl::Time deadline, absl::Time now) const {
    if (deadline == absl::InfiniteFuture()) return PlanWithoutDeadline();
    if (deadline <= now) return PlanNanos(0);
    return PlanNanos(absl::ToUnixNanos(deadline) - absl::ToUnixNanos(now));
  }

  // SO_RCVTIMEO is now `timeout`.
  void Armed(absl::Duration timeout) {
    armed_ns_ = timeout == absl::InfiniteDuration()
                    ? kNone
                    : absl::ToInt64Nanoseconds(timeout);
  }

  // SO_RCVTIMEO's value for `timeout`: a zero timeval is "no timeout",
  // which is what an infinite one means.
  static timeval ToTimeval(absl::Duration timeout) {
    return timeout == absl::InfiniteDuration() ? timeval{0, 0}
                                               : absl::ToTimeval(timeout);
  }

 private:
  static constexpr int64_t kNone = std::numeric_limits<int64_t>::max();

  Plan PlanWithoutDeadline() const {
    Plan plan;
    plan.timeout = absl::InfiniteDuration();
    plan.arm = armed_ns_ != kNone;
    return plan;
  }

  Plan PlanNanos(int64_t left_ns) const {
    Plan plan;
    // Any wait this short is polled whole (the tail is at least
    // kPolledTail); checked first so that no arithmetic below overflows.
    if (left_ns < kPolledTailNs + kShortestBlockNs) {
      plan.poll = true;
      return plan;
    }
    const int64_t tail_ns = std::max(kPolledTailNs, left_ns / 4);
    const int64_t timeout_ns = left_ns - tail_ns;
    plan.timeout = absl::Nanoseconds(timeout_ns);
    plan.arm = armed_ns_ > timeout_ns + tail_ns / 4 ||
               armed_ns_ < timeout_ns - std::max(timeout_ns / 4, kShortSlackNs);
    return plan;
  }

  // SO_RCVTIMEO in place, in nanoseconds; the kernel's initial one is none.
  int64_t armed_ns_ = kNone;
};

}  // namespace zen::ipc

#endif  // ZEN_IPC_RECEIVE_TIMEOUT_H_
