#include "base/log_throttle.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "base/log.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

// Captures what reaches the sink for the life of the object.
class CapturedLog {
 public:
  CapturedLog() {
    previous_ = SetLogSink([this](LogLevel, absl::string_view line) {
      lines_.emplace_back(line);
    });
  }
  ~CapturedLog() { SetLogSink(std::move(previous_)); }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  LogSink previous_;
  std::vector<std::string> lines_;
};

TEST(LogThrottleTest, FirstLineThenOnePerIntervalWithSuppressedCount) {
  CapturedLog log;
  LogThrottle throttle(absl::Seconds(10));
  const absl::Time start = absl::FromUnixSeconds(1000);
  EXPECT_TRUE(throttle.Log(LogLevel::kWarning, "parent gone", start));
  for (int i = 1; i <= 99; ++i) {
    EXPECT_FALSE(throttle.Log(LogLevel::kWarning, "parent gone",
                              start + absl::Milliseconds(i * 100)));
  }
  EXPECT_EQ(throttle.suppressed(), 99u);
  EXPECT_TRUE(throttle.Log(LogLevel::kWarning, "parent gone",
                           start + absl::Seconds(10)));
  ASSERT_EQ(log.lines().size(), 2u);
  EXPECT_EQ(log.lines()[0], "parent gone");
  EXPECT_EQ(log.lines()[1], "parent gone (99 similar lines suppressed)");
  EXPECT_EQ(throttle.suppressed(), 0u);
}

TEST(LogThrottleTest, QuietPeriodLetsTheNextLineThroughWithoutACount) {
  CapturedLog log;
  LogThrottle throttle(absl::Seconds(1));
  const absl::Time start = absl::FromUnixSeconds(1000);
  EXPECT_TRUE(throttle.Log(LogLevel::kInfo, "a", start));
  EXPECT_TRUE(throttle.Log(LogLevel::kInfo, "b", start + absl::Seconds(5)));
  ASSERT_EQ(log.lines().size(), 2u);
  EXPECT_EQ(log.lines()[1], "b");
}

}  // namespace
}  // namespace zen
