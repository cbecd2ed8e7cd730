#include "examples/latency_histogram.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace zen::examples {
namespace {

TEST(LatencyHistogramTest, EmptyHistogramReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.5), absl::ZeroDuration());
  EXPECT_EQ(h.mean(), absl::ZeroDuration());
  EXPECT_TRUE(h.Buckets().empty());
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int us = 1; us <= 50; ++us) h.Record(absl::Microseconds(us));
  EXPECT_EQ(h.count(), 50u);
  EXPECT_EQ(h.Percentile(0.5), absl::Microseconds(25));
  EXPECT_EQ(h.Percentile(0.99), absl::Microseconds(50));
  EXPECT_EQ(h.Percentile(0.0), absl::Microseconds(1));
  EXPECT_EQ(h.max(), absl::Microseconds(50));
  EXPECT_EQ(h.mean(), absl::Microseconds(25.5));
}

TEST(LatencyHistogramTest, LargeValuesAreWithinThreePercentAbove) {
  for (uint64_t us :
       {64ull, 100ull, 1000ull, 12345ull, 999999ull, 123456789ull}) {
    LatencyHistogram h;
    h.Record(absl::Microseconds(us));
    const int64_t p = absl::ToInt64Microseconds(h.Percentile(0.5));
    EXPECT_GE(p, static_cast<int64_t>(us)) << us;
    EXPECT_LE(p, static_cast<int64_t>(us + us / 32)) << us;
  }
}

TEST(LatencyHistogramTest, MaxIsExact) {
  LatencyHistogram h;
  h.Record(absl::Microseconds(1000));
  EXPECT_EQ(h.max(), absl::Microseconds(1000));
  EXPECT_GE(h.Percentile(1.0), absl::Microseconds(1000));
}

TEST(LatencyHistogramTest, NegativeAndHugeValuesAreKept) {
  LatencyHistogram h;
  h.Record(absl::Microseconds(-5));
  h.Record(absl::Hours(24 * 365));
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.Percentile(0.5), absl::ZeroDuration());
  EXPECT_EQ(h.Percentile(1.0), absl::Hours(24 * 365));
}

TEST(LatencyHistogramTest, NinetyNinthPercentileOfSkewedData) {
  LatencyHistogram h;
  for (int i = 0; i < 990; ++i) h.Record(absl::Microseconds(40));
  for (int i = 0; i < 10; ++i) h.Record(absl::Microseconds(5000));
  EXPECT_EQ(h.Percentile(0.5), absl::Microseconds(40));
  EXPECT_EQ(h.Percentile(0.99), absl::Microseconds(40));
  EXPECT_GE(h.Percentile(0.991), absl::Microseconds(5000));
  EXPECT_LE(h.Percentile(0.991), absl::Microseconds(5000 + 5000 / 32));
}

TEST(LatencyHistogramTest, MergeAddsCounts) {
  LatencyHistogram a, b;
  a.Record(absl::Microseconds(10));
  b.Record(absl::Microseconds(30));
  b.Record(absl::Microseconds(30));
  a.Merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.Percentile(0.34), absl::Microseconds(30));
  EXPECT_EQ(a.max(), absl::Microseconds(30));
}

TEST(LatencyHistogramTest, BucketsRebuildTheSamePercentiles) {
  LatencyHistogram original;
  for (int i = 1; i <= 1000; ++i) original.Record(absl::Microseconds(i * 7));
  LatencyHistogram rebuilt;
  for (const auto& [lower, count] : original.Buckets()) {
    rebuilt.AddToBucket(lower, count);
  }
  EXPECT_EQ(rebuilt.count(), original.count());
  EXPECT_EQ(rebuilt.Buckets(), original.Buckets());
  for (double q : {0.5, 0.9, 0.99}) {
    EXPECT_EQ(rebuilt.Percentile(q), original.Percentile(q)) << q;
  }
}

}  // namespace
}  // namespace zen::examples
