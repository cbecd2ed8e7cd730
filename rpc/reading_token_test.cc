#include "rpc/reading_token.h"

#include <atomic>
#include <thread>

#include "base/clock.h"
#include "gtest/gtest.h"
#include "rpc/pending_call.h"

namespace zen::rpc::internal {
namespace {

TEST(ReadingTokenTest, OneHolderAtATime) {
  ReadingToken token;
  EXPECT_FALSE(token.held());
  EXPECT_TRUE(token.TryTake());
  EXPECT_TRUE(token.held());
  EXPECT_FALSE(token.TryTake());
  token.Release();
  EXPECT_TRUE(token.TryTake());
}

TEST(ReadingTokenTest, FollowTakesAFreeTokenInsteadOfSleeping) {
  ReadingToken token;
  PendingCall call;
  call.deadline = absl::InfiniteFuture();  // Would hang if it slept.
  EXPECT_TRUE(token.Follow(&call));
  EXPECT_TRUE(token.held());
  EXPECT_EQ(call.state(), CallState::kWaiting);
}

TEST(ReadingTokenTest, FollowReturnsAtOnceForADoneCall) {
  ReadingToken token;
  ASSERT_TRUE(token.TryTake());
  PendingCall call;
  call.deadline = absl::InfiniteFuture();
  call.Complete(absl::CancelledError("stopped"));
  EXPECT_FALSE(token.Follow(&call));
}

// A follower that tells when its caller has decided to sleep (its look at
// the token found it held): from then on, a released token reaches it only
// by an offer. kFollowing alone is set before that look, so a token
// released then could be taken by the follower itself.
struct ObservedFollower {
  bool StartFollowing() { return call->StartFollowing(); }
  void FinishFollowing(bool sleep) {
    if (sleep) decided_to_sleep.store(true);
    call->FinishFollowing(sleep);
  }
  PendingCall* call;
  std::atomic<bool> decided_to_sleep{false};
};

TEST(ReadingTokenTest, PassOnOffersOnlyAFreeTokenToSleepingFollowers) {
  ReadingToken token;
  int offers = 0;
  token.PassOn([&] { ++offers; });
  EXPECT_EQ(offers, 0);  // No follower.

  ASSERT_TRUE(token.TryTake());
  PendingCall call;
  call.deadline = absl::InfiniteFuture();
  ObservedFollower follower{&call};
  std::thread waiter([&] {
    // Sleeps: the token is held. Wakes when offered it, then takes it.
    EXPECT_FALSE(token.Follow(&follower));
    EXPECT_TRUE(token.TryTake());
  });
  while (!follower.decided_to_sleep.load()) std::this_thread::yield();
  token.PassOn([&] { ++offers; });
  EXPECT_EQ(offers, 0);  // Held: nothing to offer.

  token.Release();
  token.PassOn([&] {
    ++offers;
    EXPECT_TRUE(call.Offer());
  });
  waiter.join();
  EXPECT_EQ(offers, 1);
  EXPECT_TRUE(token.held());  // The follower leads now.
}

// Many callers share one token: each either leads or follows until it is
// offered the token or done, and no one sleeps with the token free.
TEST(ReadingTokenTest, LeadersHandTheTokenOnAndEveryCallerGetsItsTurn) {
  ReadingToken token;
  constexpr int kThreads = 4;
  constexpr int kRounds = 200;
  PendingCall calls[kThreads];
  std::atomic<int> leading{0};
  std::atomic<int> turns{0};
  auto offer_one = [&] {
    for (PendingCall& c : calls) {
      if (c.Offer()) return;
    }
  };
  std::thread threads[kThreads];
  for (int t = 0; t < kThreads; ++t) {
    threads[t] = std::thread([&, t] {
      PendingCall& mine = calls[t];
      mine.deadline = absl::InfiniteFuture();
      for (int round = 0; round < kRounds;) {
        if (token.TryTake() || token.Follow(&mine)) {
          EXPECT_EQ(leading.fetch_add(1), 0);  // Alone while leading.
          ++turns;
          ++round;
          leading.fetch_sub(1);
          token.Release();
          token.PassOn(offer_one);
        }
      }
      token.PassOn(offer_one);  // It may have been offered and not taken.
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(turns.load(), kThreads * kRounds);
  EXPECT_FALSE(token.held());
}

}  // namespace
}  // namespace zen::rpc::internal
