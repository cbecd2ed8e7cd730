#include "rpc/method_metrics.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace zen::rpc {
namespace {

TEST(LatencyBucketTest, BoundsAreInclusive) {
  EXPECT_EQ(LatencyBucket(0), 0u);
  EXPECT_EQ(LatencyBucket(50000), 0u);  // 50 us: le="0.00005".
  EXPECT_EQ(LatencyBucket(50001), 1u);
  EXPECT_EQ(LatencyBucket(1000000000), kLatencyBuckets - 2);  // 1 s.
  EXPECT_EQ(LatencyBucket(1000000001), kLatencyBuckets - 1);  // +Inf.
}

TEST(MethodStatsTest, CountsCallsCodesAndLatency) {
  MethodStats stats;
  stats.Record(absl::StatusCode::kOk, 40000);
  stats.Record(absl::StatusCode::kUnavailable, 2000000);
  stats.Record(static_cast<absl::StatusCode>(99), -5);  // Counted UNKNOWN, 0.
  const MethodCounts counts = stats.Read();
  EXPECT_EQ(counts.calls(), 3u);
  EXPECT_EQ(counts.codes[0], 1u);
  EXPECT_EQ(counts.codes[static_cast<int>(absl::StatusCode::kUnavailable)], 1u);
  EXPECT_EQ(counts.codes[static_cast<int>(absl::StatusCode::kUnknown)], 1u);
  EXPECT_EQ(counts.buckets[0], 2u);
  EXPECT_EQ(counts.buckets[LatencyBucket(2000000)], 1u);
  EXPECT_EQ(counts.latency_sum_nanos, 2040000u);
}

TEST(MethodCountsTest, SinceAndAddAreInverse) {
  MethodStats stats;
  stats.Record(absl::StatusCode::kOk, 1000);
  const MethodCounts before = stats.Read();
  stats.Record(absl::StatusCode::kInternal, 3000000);
  const MethodCounts after = stats.Read();
  MethodCounts delta = after.Since(before);
  EXPECT_EQ(delta.calls(), 1u);
  EXPECT_EQ(delta.codes[static_cast<int>(absl::StatusCode::kInternal)], 1u);
  EXPECT_EQ(delta.latency_sum_nanos, 3000000u);
  MethodCounts sum = before;
  sum.Add(delta);
  EXPECT_EQ(sum, after);
  EXPECT_TRUE(before.Since(after).empty());  // Never below zero.
}

TEST(MethodStatsTableTest, FindsTheSameSlotForTheSameName) {
  MethodStatsTable table;
  MethodStats* a = table.Find("ping");
  EXPECT_EQ(table.Find("ping"), a);
  EXPECT_NE(table.Find("pong"), a);
  a->Record(absl::StatusCode::kOk, 1);
  const MetricsSnapshot snapshot = table.Snapshot();
  ASSERT_EQ(snapshot.size(), 2u);
  EXPECT_EQ(snapshot.at("ping").calls(), 1u);
  EXPECT_EQ(snapshot.at("pong").calls(), 0u);
}

TEST(MethodStatsTableTest, BoundsNamesAndMethods) {
  MethodStatsTable table;
  const std::string long_name(MethodStatsTable::kMaxNameLength + 1, 'x');
  table.Find(long_name)->Record(absl::StatusCode::kOk, 1);
  for (size_t i = 0; i < MethodStatsTable::kCapacity + 10; ++i) {
    table.Find(absl::StrCat("m", i))->Record(absl::StatusCode::kOk, 1);
  }
  const MetricsSnapshot snapshot = table.Snapshot();
  EXPECT_EQ(snapshot.size(), MethodStatsTable::kCapacity + 1);
  EXPECT_EQ(snapshot.at(std::string(MethodStatsTable::kOverflowMethod)).calls(),
            11u);
}

TEST(MethodStatsTableTest, ConcurrentFirstUseAndRecording) {
  MethodStatsTable table;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&table] {
      for (int i = 0; i < 1000; ++i) {
        table.Find(absl::StrCat("m", i % 8))->Record(absl::StatusCode::kOk, i);
      }
    });
  }
  for (auto& t : threads) t.join();
  const MetricsSnapshot snapshot = table.Snapshot();
  ASSERT_EQ(snapshot.size(), 8u);
  uint64_t total = 0;
  for (const auto& [name, counts] : snapshot) total += counts.calls();
  EXPECT_EQ(total, 4000u);
}

}  // namespace
}  // namespace zen::rpc
