#include "base/timer_slack.h"

#include <thread>

#include "gtest/gtest.h"

namespace zen {
namespace {

TEST(TimerSlackTest, SetsTheCallingThreadsSlackOnly) {
  std::thread([] {
    ASSERT_TRUE(SetThreadTimerSlack(absl::Milliseconds(2)).ok());
    EXPECT_EQ(ThreadTimerSlack(), absl::Milliseconds(2));
    // A thread started from here inherits it.
    std::thread([] {
      EXPECT_EQ(ThreadTimerSlack(), absl::Milliseconds(2));
    }).join();
  }).join();
  // The thread that started it kept its own.
  EXPECT_NE(ThreadTimerSlack(), absl::Milliseconds(2));
}

TEST(TimerSlackTest, ZeroIsTheSmallestSlackNotTheDefault) {
  std::thread([] {
    ASSERT_TRUE(SetThreadTimerSlack(absl::ZeroDuration()).ok());
    EXPECT_EQ(ThreadTimerSlack(), absl::Nanoseconds(1));
  }).join();
}

}  // namespace
}  // namespace zen
