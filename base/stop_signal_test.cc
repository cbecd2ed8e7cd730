#include "base/stop_signal.h"

#include <atomic>

#include "absl/time/time.h"
#include "base/clock.h"
#include "base/thread_group.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

TEST(StopSignalTest, ASleepEndsAtItsDeadline) {
  StopSignal signal;
  EXPECT_TRUE(signal.SleepFor(absl::Milliseconds(1)));
  EXPECT_TRUE(signal.SleepUntil(absl::InfinitePast()));
  EXPECT_FALSE(signal.stopped());
}

TEST(StopSignalTest, StopWakesASleeperThatWouldSleepForADay) {
  StopSignal signal;
  std::atomic<bool> slept_through{true};
  std::atomic<bool> sleeping{false};
  ThreadGroup sleeper;
  sleeper.Spawn([&] {
    sleeping = true;
    slept_through = signal.SleepFor(absl::Hours(24));
  });
  // Stopped before or during the sleep: either way it returns false.
  while (!sleeping) zen::SleepFor(absl::Milliseconds(1));
  EXPECT_TRUE(signal.Stop());
  sleeper.JoinAll();
  EXPECT_FALSE(slept_through.load());
}

TEST(StopSignalTest, StoppedStaysStoppedAndSleepsNoMore) {
  StopSignal signal;
  EXPECT_TRUE(signal.Stop());
  EXPECT_FALSE(signal.Stop());  // Only the first call stops it.
  EXPECT_TRUE(signal.stopped());
  EXPECT_FALSE(signal.SleepFor(absl::Hours(24)));
}

}  // namespace
}  // namespace zen
