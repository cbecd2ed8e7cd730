#include "base/log_throttle.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace zen {

bool LogThrottle::Log(LogLevel level, absl::string_view message,
                      absl::Time now) {
  uint64_t suppressed = 0;
  {
    MutexLock lock(&mu_);
    if (now < last_ + interval_) {
      ++suppressed_;
      return false;
    }
    last_ = now;
    suppressed = suppressed_;
    suppressed_ = 0;
  }
  if (suppressed == 0) {
    zen::Log(level, message);
  } else {
    zen::Log(level, absl::StrCat(message, " (", suppressed,
                                 " similar lines suppressed)"));
  }
  return true;
}

uint64_t LogThrottle::suppressed() const {
  MutexLock lock(&mu_);
  return suppressed_;
}

}  // namespace zen
