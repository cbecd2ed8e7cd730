#include "rpc/async_expiry.h"

#include <set>
#include <vector>

#include "base/clock.h"
#include "gtest/gtest.h"

namespace zen::rpc::internal {
namespace {

class AsyncExpiryTest : public ::testing::Test {
 protected:
  // An asynchronous call due at `deadline`, indexed.
  PendingCall* Add(absl::Time deadline) {
    calls_.emplace_back(std::make_unique<PendingCall>());
    PendingCall* p = calls_.back().get();
    p->deadline = deadline;
    p->callback = [](absl::StatusOr<RawResult>) {};
    expiry_.Add(p);
    return p;
  }

  AsyncExpiry expiry_;
  std::vector<std::unique_ptr<PendingCall>> calls_;
  const absl::Time t0_ = zen::Now();
};

TEST_F(AsyncExpiryTest, ExpiresOnlyWhatIsDueInDeadlineOrder) {
  PendingCall* late = Add(t0_ + absl::Seconds(3));
  PendingCall* first = Add(t0_ + absl::Seconds(1));
  PendingCall* second = Add(t0_ + absl::Seconds(2));
  EXPECT_EQ(expiry_.waiting(), 3u);
  EXPECT_EQ(expiry_.Earliest(), t0_ + absl::Seconds(1));
  std::vector<PendingCall*> expired;
  expiry_.ExpireDue(t0_ + absl::Seconds(2), [&](PendingCall* p) {
    expired.push_back(p);
    return true;
  });
  EXPECT_EQ(expired, (std::vector<PendingCall*>{first, second}));
  EXPECT_EQ(expiry_.waiting(), 1u);
  EXPECT_EQ(expiry_.Earliest(), late->deadline);
}

TEST_F(AsyncExpiryTest, RemovedCallsAreNotExpired) {
  PendingCall* completed = Add(t0_ + absl::Seconds(1));
  Add(t0_ + absl::Seconds(1));
  expiry_.Remove(completed);
  EXPECT_EQ(expiry_.waiting(), 1u);
  int expired = 0;
  expiry_.ExpireDue(t0_ + absl::Seconds(1), [&](PendingCall* p) {
    EXPECT_NE(p, completed);
    ++expired;
    return true;
  });
  EXPECT_EQ(expired, 1);
  EXPECT_TRUE(expiry_.empty());
  EXPECT_EQ(expiry_.waiting(), 0u);
}

// A completer took the call from the table but has not removed it here yet:
// expiry drops the entry, the call stays counted until the completer's
// Remove, which must not fail on the missing entry.
TEST_F(AsyncExpiryTest, CallHeldByACompleterIsLeftToIt) {
  PendingCall* p = Add(t0_);
  expiry_.ExpireDue(t0_, [](PendingCall*) { return false; });
  EXPECT_TRUE(expiry_.empty());
  EXPECT_EQ(expiry_.waiting(), 1u);
  expiry_.Remove(p);
  EXPECT_EQ(expiry_.waiting(), 0u);
}

TEST_F(AsyncExpiryTest, ReadDeadlineIsSlicedOnlyWhileCallsWait) {
  const absl::Time until = t0_ + absl::Seconds(60);
  {
    EXPECT_EQ(expiry_.ReadDeadline(until), until);
    EXPECT_EQ(expiry_.ReadDeadline(absl::InfiniteFuture()),
              absl::InfiniteFuture());
  }
  Add(t0_ + absl::Seconds(30));
  const absl::Time sliced = expiry_.ReadDeadline(until);
  EXPECT_LE(sliced, zen::Now() + AsyncExpiry::kReadSlice);
  EXPECT_GT(sliced, t0_);
  // A sooner deadline than the slice wins.
  EXPECT_EQ(expiry_.ReadDeadline(t0_), t0_);
}

TEST_F(AsyncExpiryTest, ReadDeadlineStopsAtTheEarliestCall) {
  const absl::Time soon = t0_ + absl::Milliseconds(1);
  Add(soon);
  EXPECT_EQ(expiry_.ReadDeadline(absl::InfiniteFuture()), soon);
}

}  // namespace
}  // namespace zen::rpc::internal
