#include "rpc/method_metrics.h"

#include <cstring>

#include "base/clock.h"

namespace zen::rpc {

uint64_t MethodCounts::calls() const {
  uint64_t n = 0;
  for (uint64_t b : buckets) n += b;
  return n;
}

void MethodCounts::Add(const MethodCounts& other) {
  for (size_t i = 0; i < kLatencyBuckets; ++i) buckets[i] += other.buckets[i];
  for (size_t i = 0; i < kStatusCodes; ++i) codes[i] += other.codes[i];
  latency_sum_nanos += other.latency_sum_nanos;
}

MethodCounts MethodCounts::Since(const MethodCounts& earlier) const {
  auto minus = [](uint64_t now, uint64_t then) {
    return now > then ? now - then : 0;
  };
  MethodCounts d;
  for (size_t i = 0; i < kLatencyBuckets; ++i) {
    d.buckets[i] = minus(buckets[i], earlier.buckets[i]);
  }
  for (size_t i = 0; i < kStatusCodes; ++i) {
    d.codes[i] = minus(codes[i], earlier.codes[i]);
  }
  d.latency_sum_nanos = minus(latency_sum_nanos, earlier.latency_sum_nanos);
  return d;
}

bool MethodCounts::operator==(const MethodCounts& other) const {
  return buckets == other.buckets && codes == other.codes &&
         latency_sum_nanos == other.latency_sum_nanos;
}

void AddSnapshot(const MetricsSnapshot& from, MetricsSnapshot* to) {
  for (const auto& [method, counts] : from) (*to)[method].Add(counts);
}

size_t LatencyBucket(int64_t latency_nanos) {
  size_t i = 0;
  while (i < kLatencyBuckets - 1 &&
         latency_nanos > kLatencyBoundsMicros[i] * 1000) {
    ++i;
  }
  return i;
}

void MethodStats::Record(absl::StatusCode code, int64_t latency_nanos) {
  if (latency_nanos < 0) latency_nanos = 0;
  size_t c = static_cast<size_t>(code);
  if (c >= kStatusCodes) c = static_cast<size_t>(absl::StatusCode::kUnknown);
  buckets_[LatencyBucket(latency_nanos)].fetch_add(1,
                                                   std::memory_order_relaxed);
  codes_[c].fetch_add(1, std::memory_order_relaxed);
  latency_sum_nanos_.fetch_add(static_cast<uint64_t>(latency_nanos),
                               std::memory_order_relaxed);
}

void MethodStats::RecordSince(absl::StatusCode code, absl::Time started) {
  Record(code, started == absl::InfinitePast()
                   ? 0
                   : absl::ToInt64Nanoseconds(zen::Now() - started));
}

MethodCounts MethodStats::Read() const {
  MethodCounts counts;
  for (size_t i = 0; i < kLatencyBuckets; ++i) {
    counts.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  for (size_t i = 0; i < kStatusCodes; ++i) {
    counts.codes[i] = codes_[i].load(std::memory_order_relaxed);
  }
  counts.latency_sum_nanos = latency_sum_nanos_.load(std::memory_order_relaxed);
  return counts;
}

uint32_t MethodStatsTable::Hash(absl::string_view name) {
  uint32_t h = 2166136261u;  // FNV-1a: short names, no need for more.
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  return h == 0 ? 1 : h;
}

MethodStatsTable::Slot* MethodStatsTable::Probe(absl::string_view method,
                                                uint32_t hash) {
  for (size_t n = 0, i = hash & (kCapacity - 1); n < kCapacity;
       ++n, i = (i + 1) & (kCapacity - 1)) {
    Slot& slot = slots_[i];
    const uint32_t tag = slot.tag.load(std::memory_order_acquire);
    if (tag == 0) return nullptr;
    if (tag == hash && slot.length == method.size() &&
        std::memcmp(slot.name, method.data(), method.size()) == 0) {
      return &slot;
    }
  }
  return nullptr;
}

MethodStats* MethodStatsTable::Find(absl::string_view method) {
  if (method.size() > kMaxNameLength) return &overflow_;
  const uint32_t hash = Hash(method);
  if (Slot* slot = Probe(method, hash)) return &slot->stats;
  return Add(method, hash);
}

MethodStats* MethodStatsTable::Add(absl::string_view method, uint32_t hash) {
  MutexLock lock(&mu_);
  if (Slot* slot = Probe(method, hash)) return &slot->stats;  // Raced.
  for (size_t n = 0, i = hash & (kCapacity - 1); n < kCapacity;
       ++n, i = (i + 1) & (kCapacity - 1)) {
    Slot& slot = slots_[i];
    if (slot.tag.load(std::memory_order_relaxed) != 0) continue;
    slot.length = static_cast<uint32_t>(method.size());
    std::memcpy(slot.name, method.data(), method.size());
    slot.tag.store(hash, std::memory_order_release);
    return &slot.stats;
  }
  return &overflow_;  // Full.
}

MetricsSnapshot MethodStatsTable::Snapshot() const {
  MetricsSnapshot snapshot;
  for (const Slot& slot : slots_) {
    if (slot.tag.load(std::memory_order_acquire) == 0) continue;
    snapshot[std::string(slot.name, slot.length)] = slot.stats.Read();
  }
  MethodCounts overflow = overflow_.Read();
  if (!overflow.empty()) {
    snapshot[std::string(kOverflowMethod)].Add(overflow);
  }
  return snapshot;
}

}  // namespace zen::rpc
