#include "base/timer_slack.h"

#include <sys/prctl.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace zen {

absl::Status SetThreadTimerSlack(absl::Duration slack) {
  const int64_t ns = std::max<int64_t>(1, absl::ToInt64Nanoseconds(slack));
  if (::prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(ns), 0, 0, 0) !=
      0) {
    return absl::InternalError(
        absl::StrCat("prctl(PR_SET_TIMERSLACK): errno ", errno));
  }
  return absl::OkStatus();
}

absl::Duration ThreadTimerSlack() {
  const int ns = ::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  return absl::Nanoseconds(ns < 0 ? 0 : ns);
}

}  // namespace zen
