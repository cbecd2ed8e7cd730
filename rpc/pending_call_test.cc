#include "rpc/pending_call.h"

#include <thread>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "base/clock.h"
#include "gtest/gtest.h"

namespace zen::rpc::internal {
namespace {

TEST(PendingCallTest, StartsWaitingAndCompletesOnce) {
  PendingCall call;
  EXPECT_EQ(call.state(), CallState::kWaiting);
  EXPECT_FALSE(call.done());
  call.Complete(absl::DeadlineExceededError("late"));
  EXPECT_EQ(call.state(), CallState::kDone);
  EXPECT_TRUE(call.done());
  EXPECT_TRUE(absl::IsDeadlineExceeded(call.TakeResult().status()));
}

TEST(PendingCallTest, CompleteCallGivesTheCallAStatusOfItsOwn) {
  // One absl::Status rep shared by two threads is freed by whichever drops
  // it last, through a reference count that TSan cannot see (Debian's
  // Abseil is not instrumented): the call must not share the completer's.
  absl::Status shared = absl::UnimplementedError("undefined handler 'x'");
  shared.SetPayload("zen/test", absl::Cord("a payload longer than inline"));
  PendingCall call;
  CompletedCalls completed;
  CompleteCall(&call, shared, &completed);
  EXPECT_TRUE(completed.empty());  // Synchronous.
  const absl::Status mine = call.TakeResult().status();
  EXPECT_EQ(mine, shared);  // Same code, message and payloads.
  EXPECT_NE(mine.message().data(), shared.message().data());
}

TEST(PendingCallTest, SleepUntilDoneReturnsAtTheDeadlineStillWaiting) {
  PendingCall call;
  const absl::Time start = zen::Now();
  EXPECT_FALSE(call.SleepUntilDone(start + absl::Milliseconds(10)));
  EXPECT_GE(zen::Now() - start, absl::Milliseconds(10));
  EXPECT_EQ(call.state(), CallState::kWaiting);
}

TEST(PendingCallTest, CompleteWakesASleepingCaller) {
  PendingCall call;
  std::thread completer([&] {
    while (call.state() != CallState::kSleeping) std::this_thread::yield();
    call.Complete(absl::CancelledError("stopped"));
  });
  EXPECT_TRUE(call.SleepUntilDone(absl::InfiniteFuture()));
  completer.join();
  EXPECT_TRUE(absl::IsCancelled(call.TakeResult().status()));
}

TEST(PendingCallTest, OfferReachesOnlyAFollower) {
  PendingCall call;
  EXPECT_FALSE(call.Offer());  // Waiting, not following.
  ASSERT_TRUE(call.StartFollowing());
  EXPECT_EQ(call.state(), CallState::kFollowing);
  EXPECT_TRUE(call.Offer());
  EXPECT_EQ(call.state(), CallState::kOffered);
  // Offered again before it woke: still that one (no second follower is
  // woken for the one token), and still offered.
  EXPECT_TRUE(call.Offer());
  EXPECT_EQ(call.state(), CallState::kOffered);
  call.FinishFollowing(/*sleep=*/true);  // Returns at once: offered.
  EXPECT_EQ(call.state(), CallState::kWaiting);
}

TEST(PendingCallTest, FollowerWakesWhenOffered) {
  PendingCall call;
  call.deadline = absl::InfiniteFuture();
  ASSERT_TRUE(call.StartFollowing());
  std::thread leader([&] {
    while (!call.Offer()) std::this_thread::yield();
  });
  call.FinishFollowing(/*sleep=*/true);
  leader.join();
  EXPECT_EQ(call.state(), CallState::kWaiting);
}

TEST(PendingCallTest, FollowerWakesWhenDoneAndStaysDone) {
  PendingCall call;
  call.deadline = absl::InfiniteFuture();
  ASSERT_TRUE(call.StartFollowing());
  std::thread reader([&] { call.Complete(absl::UnavailableError("lost")); });
  call.FinishFollowing(/*sleep=*/true);
  reader.join();
  EXPECT_EQ(call.state(), CallState::kDone);
  EXPECT_FALSE(call.StartFollowing());  // Done: nothing to follow for.
  EXPECT_FALSE(call.Offer());
}

TEST(PendingCallTest, FollowerWakesAtItsDeadline) {
  PendingCall call;
  call.deadline = zen::Now() + absl::Milliseconds(10);
  ASSERT_TRUE(call.StartFollowing());
  call.FinishFollowing(/*sleep=*/true);
  EXPECT_GE(zen::Now(), call.deadline);
  EXPECT_EQ(call.state(), CallState::kWaiting);
}

}  // namespace
}  // namespace zen::rpc::internal
