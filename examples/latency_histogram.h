// A latency histogram with bounded memory and ~3% precision, mergeable
// across processes (each worker keeps one; the self-test merges them).
#ifndef ZEN_EXAMPLES_LATENCY_HISTOGRAM_H_
#define ZEN_EXAMPLES_LATENCY_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace zen::examples {

// Counts durations in whole microseconds. Values under 64 us have buckets of
// their own; above, each power of two is split into 32 buckets, so a bucket
// is at most 1/32 of its values wide. Values from 2^40 us (12 days) on share
// the last bucket. Fixed size (about 9 KiB); no allocation after
// construction. A value type; not thread-safe.
class LatencyHistogram {
 public:
  // (lower bound in microseconds, count) of one non-empty bucket.
  using Bucket = std::pair<uint64_t, uint64_t>;

  LatencyHistogram();

  // Negative durations count as zero.
  void Record(absl::Duration latency);
  // Adds `count` values to the bucket holding `micros`, as read back from
  // Buckets() of another histogram. Exact values are lost then: max() and
  // mean() of a histogram built this way are known to bucket precision only
  // (max() is the bucket's upper end, mean() counts lower ends).
  void AddToBucket(uint64_t micros, uint64_t count);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  // The largest value recorded (exact unless rebuilt from buckets).
  absl::Duration max() const { return absl::Microseconds(max_us_); }
  absl::Duration mean() const;

  // The value at quantile `q` in [0, 1]: the upper end of the bucket holding
  // the ceil(q * count)-th smallest value (at least the first), so never
  // below the true quantile and at most ~3% above it; a histogram rebuilt
  // from Buckets() gives the same answers. Zero when empty.
  absl::Duration Percentile(double q) const;

  // The non-empty buckets, from the fastest.
  std::vector<Bucket> Buckets() const;

 private:
  static size_t IndexOf(uint64_t micros);
  static uint64_t LowerBound(size_t index);
  static uint64_t UpperBound(size_t index);  // inclusive

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_us_ = 0;
  uint64_t max_us_ = 0;
};

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_LATENCY_HISTOGRAM_H_
