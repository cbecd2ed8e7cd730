// zen::Now(): the current time, safe to call in a forked child. Library code
// reads the clock and sleeps only through this header:
// //tools:clock_use_test fails on absl/time/clock.h, absl::Now() or
// absl::GetCurrentTimeNanos() anywhere else.
//
// absl::Now() keeps a process-wide SpinLock for its cycle-clock calibration;
// a child forked while another thread held it deadlocks in its first
// absl::Now() (seen: a worker hung in Agent::client()). Debian's Abseil has
// no fork handler for it, so the library reads the clock itself: one vDSO
// clock_gettime, no lock.
#ifndef ZEN_BASE_CLOCK_H_
#define ZEN_BASE_CLOCK_H_

#include <time.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace zen {

inline absl::Time Now() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return absl::TimeFromTimespec(ts);
}

// absl::SleepFor (a nanosleep loop, fork-safe), which shares its header with
// absl::Now().
inline void SleepFor(absl::Duration duration) { absl::SleepFor(duration); }

}  // namespace zen

#endif  // ZEN_BASE_CLOCK_H_
