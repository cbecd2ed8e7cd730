// Deadlines for tests.
#ifndef ZEN_TESTING_DEADLINE_H_
#define ZEN_TESTING_DEADLINE_H_

#include "absl/time/time.h"
#include "base/clock.h"

namespace zen::testing {

// The deadline `d` from now, by zen::Now() (so safe in a forked child).
inline absl::Time In(absl::Duration d) { return zen::Now() + d; }

}  // namespace zen::testing

#endif  // ZEN_TESTING_DEADLINE_H_
