// Deadlines for tests.
#ifndef ZEN_TESTING_DEADLINE_H_
#define ZEN_TESTING_DEADLINE_H_

#include "absl/time/time.h"
#include "base/clock.h"

namespace zen::testing {

// The deadline `d` from now, by zen::Now() (so safe in a forked child).
inline absl::Time In(absl::Duration d) { return zen::Now() + d; }

// Asks `done()` every 5 ms until it holds or `limit` has passed; returns
// its last answer.
template <typename F>
bool Eventually(F done, absl::Duration limit = absl::Seconds(10)) {
  const absl::Time deadline = In(limit);
  while (zen::Now() < deadline) {
    if (done()) return true;
    zen::SleepFor(absl::Milliseconds(5));
  }
  return done();
}

}  // namespace zen::testing

#endif  // ZEN_TESTING_DEADLINE_H_
