#include "rpc/relief.h"

#include "gtest/gtest.h"

namespace zen::rpc::internal {
namespace {

using Verdict = ReaderRelief::Verdict;

constexpr absl::Duration kBudget = absl::Milliseconds(2);
const absl::Time kStart = absl::FromUnixSeconds(1000);

TEST(ReaderReliefTest, IdleReaderIsLeftAlone) {
  ReaderRelief relief;
  EXPECT_EQ(relief.Judge(kStart + absl::Hours(1), kBudget), Verdict::kIdle);
}

TEST(ReaderReliefTest, HandlerWithinBudgetIsLookedAtAgain) {
  ReaderRelief relief;
  relief.HandlerStarted(kStart, /*tid=*/42);
  EXPECT_EQ(relief.Judge(kStart, kBudget), Verdict::kWithinBudget);
  EXPECT_EQ(relief.Judge(kStart + kBudget / 2, kBudget),
            Verdict::kWithinBudget);
}

TEST(ReaderReliefTest, HandlerOverBudgetIsRelievedIfBlocked) {
  ReaderRelief relief;
  relief.HandlerStarted(kStart, /*tid=*/42);
  EXPECT_EQ(relief.Judge(kStart + kBudget, kBudget),
            Verdict::kRelieveIfBlocked);
  EXPECT_EQ(relief.tid(), 42);
  const uint64_t call = relief.call();
  EXPECT_TRUE(relief.StillRunning(call));
}

TEST(ReaderReliefTest, HandlerOverTheRunnableLimitIsRelievedAnyway) {
  ReaderRelief relief;
  relief.HandlerStarted(kStart, /*tid=*/42);
  EXPECT_EQ(relief.Judge(kStart + (kRunnableReliefFactor * kBudget) -
                             absl::Nanoseconds(1),
                         kBudget),
            Verdict::kRelieveIfBlocked);
  EXPECT_EQ(relief.Judge(kStart + kRunnableReliefFactor * kBudget, kBudget),
            Verdict::kRelieve);
}

TEST(ReaderReliefTest, AJudgedHandlerThatFinishedIsNotRelieved) {
  ReaderRelief relief;
  const uint64_t reader = relief.reader();
  relief.HandlerStarted(kStart, /*tid=*/42);
  const uint64_t judged = relief.call();
  EXPECT_TRUE(relief.HandlerFinished(reader));
  EXPECT_FALSE(relief.StillRunning(judged));
  // The next handler of the same reader is another call.
  relief.HandlerStarted(kStart + kBudget, /*tid=*/42);
  EXPECT_FALSE(relief.StillRunning(judged));
  EXPECT_TRUE(relief.StillRunning(relief.call()));
}

TEST(ReaderReliefTest, RelievedReaderLeavesAndTheNextOneReads) {
  ReaderRelief relief;
  const uint64_t old_reader = relief.reader();
  relief.HandlerStarted(kStart, /*tid=*/42);
  relief.Relieve();
  EXPECT_EQ(relief.Judge(kStart + absl::Hours(1), kBudget), Verdict::kIdle);
  const uint64_t new_reader = relief.reader();
  EXPECT_NE(new_reader, old_reader);
  // The new reader runs a handler meanwhile; the old one's end must not
  // mark it finished.
  relief.HandlerStarted(kStart + kBudget, /*tid=*/43);
  EXPECT_FALSE(relief.HandlerFinished(old_reader));
  EXPECT_EQ(relief.Judge(kStart + kBudget, kBudget), Verdict::kWithinBudget);
  EXPECT_TRUE(relief.HandlerFinished(new_reader));
  EXPECT_EQ(relief.Judge(kStart + kBudget, kBudget), Verdict::kIdle);
}

}  // namespace
}  // namespace zen::rpc::internal
