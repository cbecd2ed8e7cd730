#include "ipc/receive_timeout.h"

#include "gtest/gtest.h"

namespace zen::ipc {
namespace {

using absl::Milliseconds;
using absl::Seconds;

TEST(ReceiveTimeoutTest, NoDeadlineBlocksWithoutATimeout) {
  ReceiveTimeout timeout;
  const ReceiveTimeout::Plan plan = timeout.PlanWait(absl::InfiniteDuration());
  EXPECT_FALSE(plan.poll);
  EXPECT_FALSE(plan.arm);  // The kernel's initial SO_RCVTIMEO is none.
  EXPECT_EQ(plan.timeout, absl::InfiniteDuration());
}

TEST(ReceiveTimeoutTest, TheLastQuarterOfALongWaitIsPolled) {
  ReceiveTimeout timeout;
  const ReceiveTimeout::Plan plan = timeout.PlanWait(Seconds(4));
  EXPECT_FALSE(plan.poll);
  EXPECT_TRUE(plan.arm);
  EXPECT_EQ(plan.timeout, Seconds(3));
}

TEST(ReceiveTimeoutTest, AtLeastThePolledTailIsPolled) {
  ReceiveTimeout timeout;
  const ReceiveTimeout::Plan plan = timeout.PlanWait(Milliseconds(100));
  EXPECT_FALSE(plan.poll);
  EXPECT_EQ(plan.timeout, Milliseconds(100) - ReceiveTimeout::kPolledTail);
}

TEST(ReceiveTimeoutTest, ShortWaitsArePolledWhole) {
  ReceiveTimeout timeout;
  EXPECT_TRUE(timeout.PlanWait(ReceiveTimeout::kPolledTail).poll);
  EXPECT_TRUE(timeout
                  .PlanWait(ReceiveTimeout::kPolledTail +
                            ReceiveTimeout::kShortestBlock -
                            absl::Nanoseconds(1))
                  .poll);
  EXPECT_FALSE(timeout
                   .PlanWait(ReceiveTimeout::kPolledTail +
                             ReceiveTimeout::kShortestBlock)
                   .poll);
  EXPECT_TRUE(timeout.PlanWait(absl::ZeroDuration()).poll);
  EXPECT_TRUE(timeout.PlanWait(-Seconds(1)).poll);  // Passed already.
}

// Calls made with the usual 5 s timeout wait a little less each time (the
// reader's deadline is its caller's): the timer armed for the first is
// kept, no setsockopt per call.
TEST(ReceiveTimeoutTest, ATimerInPlaceIsKeptForSimilarWaits) {
  ReceiveTimeout timeout;
  ReceiveTimeout::Plan plan = timeout.PlanWait(Seconds(5));
  ASSERT_TRUE(plan.arm);
  timeout.Armed(plan.timeout);
  for (absl::Duration left : {Seconds(5), Milliseconds(4990),
                              Milliseconds(4800), Milliseconds(5200)}) {
    EXPECT_FALSE(timeout.PlanWait(left).arm) << left;
  }
}

// A timer in place that could fire after the deadline, even 1/8 late, is
// re-armed; one within the allowance cannot.
TEST(ReceiveTimeoutTest, ATimerThatCouldOvershootIsReArmed) {
  ReceiveTimeout timeout;
  timeout.Armed(Seconds(3));  // Planned for a 4 s wait.
  // A 2 s wait: planned 1.5 s, tail 0.5 s; 3 s exceeds 1.5 + 0.125 s.
  EXPECT_TRUE(timeout.PlanWait(Seconds(2)).arm);
  // The allowance itself: every timer it keeps fires before the deadline
  // even 1/8 late.
  for (absl::Duration left : {Milliseconds(60), Milliseconds(200), Seconds(1),
                              Seconds(5), Seconds(60)}) {
    const ReceiveTimeout::Plan plan = timeout.PlanWait(left);
    if (plan.poll) continue;
    const absl::Duration tail = left - plan.timeout;
    ReceiveTimeout kept;
    kept.Armed(plan.timeout + tail / 4);
    EXPECT_FALSE(kept.PlanWait(left).arm) << left;
    EXPECT_LT((plan.timeout + tail / 4) * 9 / 8, left) << left;
    kept.Armed(plan.timeout + tail / 4 + absl::Milliseconds(1));
    EXPECT_TRUE(kept.PlanWait(left).arm) << left;
  }
}

TEST(ReceiveTimeoutTest, ATimerMuchTooShortIsReArmed) {
  ReceiveTimeout timeout;
  timeout.Armed(Milliseconds(10));
  // A 4 s wait plans 3 s; 10 ms is more than max(3 s / 4, 100 ms) short.
  EXPECT_TRUE(timeout.PlanWait(Seconds(4)).arm);
  // Within the slack: kept.
  timeout.Armed(Milliseconds(2300));
  EXPECT_FALSE(timeout.PlanWait(Seconds(4)).arm);
  // For short waits the slack is kShortSlack.
  timeout.Armed(Milliseconds(1));
  EXPECT_FALSE(timeout.PlanWait(Milliseconds(120)).arm);  // Plans 70 ms.
}

TEST(ReceiveTimeoutTest, AFiniteTimerIsClearedForAWaitWithoutDeadline) {
  ReceiveTimeout timeout;
  timeout.Armed(Seconds(3));
  EXPECT_TRUE(timeout.PlanWait(absl::InfiniteDuration()).arm);
}

// PlanWaitUntil is PlanWait in integer nanoseconds: the same plans.
TEST(ReceiveTimeoutTest, PlanningUntilADeadlineIsPlanningForWhatIsLeft) {
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  for (absl::Duration armed :
       {absl::InfiniteDuration(), Milliseconds(1), Seconds(3)}) {
    ReceiveTimeout timeout;
    timeout.Armed(armed);
    for (absl::Duration left :
         {-Seconds(1), absl::ZeroDuration(), Milliseconds(50),
          Milliseconds(51) - absl::Nanoseconds(1), Milliseconds(51),
          Milliseconds(120), Seconds(2), Seconds(4), Seconds(5),
          absl::Hours(24 * 365)}) {
      const ReceiveTimeout::Plan a = timeout.PlanWait(left);
      const ReceiveTimeout::Plan b = timeout.PlanWaitUntil(now + left, now);
      EXPECT_EQ(a.poll, b.poll) << left;
      if (a.poll) continue;
      EXPECT_EQ(a.arm, b.arm) << left << " armed " << armed;
      EXPECT_EQ(a.timeout, b.timeout) << left;
    }
    const ReceiveTimeout::Plan none =
        timeout.PlanWaitUntil(absl::InfiniteFuture(), now);
    EXPECT_EQ(none.timeout, absl::InfiniteDuration());
    EXPECT_EQ(none.arm, armed != absl::InfiniteDuration());
    EXPECT_TRUE(timeout.PlanWaitUntil(absl::InfinitePast(), now).poll);
  }
}

TEST(ReceiveTimeoutTest, InfiniteIsAZeroTimeval) {
  const timeval none = ReceiveTimeout::ToTimeval(absl::InfiniteDuration());
  EXPECT_EQ(none.tv_sec, 0);
  EXPECT_EQ(none.tv_usec, 0);
  const timeval some = ReceiveTimeout::ToTimeval(Milliseconds(1500));
  EXPECT_EQ(some.tv_sec, 1);
  EXPECT_EQ(some.tv_usec, 500000);
}

}  // namespace
}  // namespace zen::ipc
