#include "examples/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace zen::examples {
namespace {

constexpr int kSubBucketBits = 5;                       // 32 per power of two
constexpr uint64_t kExactLimit = 2u << kSubBucketBits;  // 64
constexpr int kMaxBit = 39;  // Values from 2^40 us on share the last bucket.
constexpr size_t kBucketCount =
    kExactLimit + (kMaxBit - kSubBucketBits) * (1u << kSubBucketBits);

int HighestBit(uint64_t v) { return 63 - __builtin_clzll(v); }

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBucketCount, 0) {}

size_t LatencyHistogram::IndexOf(uint64_t micros) {
  if (micros < kExactLimit) return static_cast<size_t>(micros);
  const int bit = std::min(HighestBit(micros), kMaxBit);
  const int shift = bit - kSubBucketBits;
  const uint64_t mantissa =
      std::min<uint64_t>(micros >> shift, (kExactLimit - 1));  // [32, 63]
  return kExactLimit +
         static_cast<size_t>(bit - kSubBucketBits - 1) *
             (1u << kSubBucketBits) +
         static_cast<size_t>(mantissa - (kExactLimit / 2));
}

uint64_t LatencyHistogram::LowerBound(size_t index) {
  if (index < kExactLimit) return index;
  const size_t above = index - kExactLimit;
  const int shift = static_cast<int>(above >> kSubBucketBits) + 1;
  const uint64_t mantissa =
      (kExactLimit / 2) + (above & ((1u << kSubBucketBits) - 1));
  return mantissa << shift;
}

uint64_t LatencyHistogram::UpperBound(size_t index) {
  if (index < kExactLimit) return index;
  // The last bucket is open-ended: its values are at most max_us_.
  if (index + 1 == kBucketCount) return LowerBound(index);
  return LowerBound(index + 1) - 1;
}

void LatencyHistogram::Record(absl::Duration latency) {
  const int64_t micros = absl::ToInt64Microseconds(latency);
  const uint64_t value = micros < 0 ? 0 : static_cast<uint64_t>(micros);
  ++counts_[IndexOf(value)];
  ++count_;
  sum_us_ += value;
  max_us_ = std::max(max_us_, value);
}

void LatencyHistogram::AddToBucket(uint64_t micros, uint64_t count) {
  if (count == 0) return;
  const size_t index = IndexOf(micros);
  counts_[index] += count;
  count_ += count;
  sum_us_ += LowerBound(index) * count;
  max_us_ = std::max(max_us_, UpperBound(index));
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_us_ += other.sum_us_;
  max_us_ = std::max(max_us_, other.max_us_);
}

absl::Duration LatencyHistogram::mean() const {
  if (count_ == 0) return absl::ZeroDuration();
  return absl::Microseconds(static_cast<double>(sum_us_) /
                            static_cast<double>(count_));
}

absl::Duration LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return absl::ZeroDuration();
  q = std::clamp(q, 0.0, 1.0);
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      return absl::Microseconds(i + 1 == kBucketCount ? max_us_
                                                      : UpperBound(i));
    }
  }
  return absl::Microseconds(max_us_);
}

std::vector<LatencyHistogram::Bucket> LatencyHistogram::Buckets() const {
  std::vector<Bucket> buckets;
  for (size_t i = 0; i < kBucketCount; ++i) {
    if (counts_[i] != 0) buckets.emplace_back(LowerBound(i), counts_[i]);
  }
  return buckets;
}

}  // namespace zen::examples
