// LogThrottle: one kind of log line, at most once per interval.
#ifndef ZEN_BASE_LOG_THROTTLE_H_
#define ZEN_BASE_LOG_THROTTLE_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/fork_guard.h"
#include "base/log.h"
#include "base/mutex.h"

namespace zen {

// A worker whose parent is gone (or slow) fails the same way on every
// request: one line per failure would flood the host's log. A LogThrottle
// lets the first line of its kind through, then at most one per `interval`;
// the next line that goes out says how many were suppressed in between.
//
// Thread-safe and fork-safe (its lock is fork-guarded; the sink is called
// without it).
class LogThrottle {
 public:
  explicit LogThrottle(absl::Duration interval) : interval_(interval) {}
  LogThrottle(const LogThrottle&) = delete;
  LogThrottle& operator=(const LogThrottle&) = delete;

  // Sends `message` to the log sink at `level` unless a line went out less
  // than `interval` before `now`; then only counts it. Returns whether the
  // line went out.
  bool Log(LogLevel level, absl::string_view message, absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Lines suppressed since the last one that went out.
  uint64_t suppressed() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const absl::Duration interval_;
  mutable Mutex mu_;
  absl::Time last_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t suppressed_ ABSL_GUARDED_BY(mu_) = 0;
  ForkGuardRegistration fork_guard_{&mu_};
};

}  // namespace zen

#endif  // ZEN_BASE_LOG_THROTTLE_H_
