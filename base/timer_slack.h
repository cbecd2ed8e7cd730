// SetThreadTimerSlack: how late the kernel may wake the calling thread from
// a timed wait, so that the wake-up can share a timer interrupt the CPU
// takes anyway (prctl(PR_SET_TIMERSLACK); the default is 50 µs).
//
// For a library thread that wakes on a timer while other threads work, such
// as the server's supervisor: an interrupt of its own preempts whatever
// runs on that CPU, and on a VM it costs a VM exit besides, tens of
// microseconds added to one call (docs/benchmarks.md has the measurement).
#ifndef ZEN_BASE_TIMER_SLACK_H_
#define ZEN_BASE_TIMER_SLACK_H_

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace zen {

// Sets the calling thread's timer slack to `slack`, rounded down to whole
// nanoseconds; at least 1 ns (zero would mean "the default"). Threads
// started later by this one inherit it.
absl::Status SetThreadTimerSlack(absl::Duration slack);

// The calling thread's timer slack.
absl::Duration ThreadTimerSlack();

}  // namespace zen

#endif  // ZEN_BASE_TIMER_SLACK_H_
