// Per-method call metrics: calls, errors by status code and a latency
// histogram with fixed buckets, in relaxed atomic counters. Recording a call
// takes no lock and allocates nothing; a method's counters are found once
// (at handler registration on the server) or through a small fixed
// open-addressing table (on the channel).
#ifndef ZEN_RPC_METHOD_METRICS_H_
#define ZEN_RPC_METHOD_METRICS_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/mutex.h"

namespace zen::rpc {

// Upper bounds (inclusive, Prometheus' `le`) of the latency buckets, in
// microseconds; one more bucket (+Inf) takes the rest. Fixed: workers and
// parent must agree on them to add their counts.
inline constexpr int64_t kLatencyBoundsMicros[] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000};
inline constexpr size_t kLatencyBuckets =
    sizeof(kLatencyBoundsMicros) / sizeof(kLatencyBoundsMicros[0]) + 1;
// absl::StatusCode's canonical codes, 0 (OK) to 16 (UNAUTHENTICATED).
inline constexpr size_t kStatusCodes = 17;

// The counts of one method, as plain numbers: a snapshot, a report, a sum.
struct MethodCounts {
  std::array<uint64_t, kLatencyBuckets> buckets{};  // Not cumulative.
  std::array<uint64_t, kStatusCodes> codes{};       // By code; [0] is OK.
  uint64_t latency_sum_nanos = 0;

  // Calls recorded: the sum of the buckets.
  uint64_t calls() const;
  bool empty() const { return calls() == 0; }
  void Add(const MethodCounts& other);
  // What was recorded since `earlier`, an older snapshot of the same
  // counters (which only grow). A count below earlier's gives 0.
  MethodCounts Since(const MethodCounts& earlier) const;
  bool operator==(const MethodCounts& other) const;
};

// Method name -> counts, sorted by name.
using MetricsSnapshot = std::map<std::string, MethodCounts, std::less<>>;

// Adds every method of `from` into `*to`.
void AddSnapshot(const MetricsSnapshot& from, MetricsSnapshot* to);

// The index of the bucket that `latency_nanos` falls in.
size_t LatencyBucket(int64_t latency_nanos);

// The live counters of one method. Thread-safe and lock-free.
class MethodStats {
 public:
  MethodStats() = default;
  MethodStats(const MethodStats&) = delete;
  MethodStats& operator=(const MethodStats&) = delete;

  // Counts one call that ended with `code` after `latency_nanos` (negative
  // counts as 0). Three relaxed atomic adds.
  void Record(absl::StatusCode code, int64_t latency_nanos);
  // Record() of a call that started at `started` and ends now (one clock
  // read); InfinitePast (no start known) counts 0.
  void RecordSince(absl::StatusCode code, absl::Time started);
  // The counts so far. Each counter is read on its own: a call recorded
  // meanwhile may show in some and not yet in others.
  MethodCounts Read() const;

 private:
  std::array<std::atomic<uint64_t>, kLatencyBuckets> buckets_{};
  std::array<std::atomic<uint64_t>, kStatusCodes> codes_{};
  std::atomic<uint64_t> latency_sum_nanos_{0};
};

// MethodStats by method name, for a side that learns its method names as
// calls are made (the channel). A fixed open-addressing table: Find() is a
// hash of the name and a probe, lock-free once the method was seen; the
// first call of a method takes a lock to add it. Bounded: names longer than
// kMaxNameLength, and methods past kCapacity, share the one series
// kOverflowMethod. Thread-safe. No allocation after construction.
class MethodStatsTable {
 public:
  static constexpr size_t kCapacity = 64;  // A power of two.
  static constexpr size_t kMaxNameLength = 64;
  static constexpr absl::string_view kOverflowMethod = "_other";

  MethodStatsTable() = default;
  MethodStatsTable(const MethodStatsTable&) = delete;
  MethodStatsTable& operator=(const MethodStatsTable&) = delete;

  // The counters of `method` (never null; alive as long as the table).
  MethodStats* Find(absl::string_view method) ABSL_LOCKS_EXCLUDED(mu_);

  // Every method that has counters, with its counts (methods with no call
  // yet included).
  MetricsSnapshot Snapshot() const;

 private:
  struct Slot {
    // 0: empty. Else the name's hash (never 0), stored last with release
    // ordering, so a reader that sees it sees the name too.
    std::atomic<uint32_t> tag{0};
    uint32_t length = 0;
    char name[kMaxNameLength];
    MethodStats stats;
  };
  static uint32_t Hash(absl::string_view name);
  // The slot of `method`, or null if it is not in the table.
  Slot* Probe(absl::string_view method, uint32_t hash);
  MethodStats* Add(absl::string_view method, uint32_t hash)
      ABSL_LOCKS_EXCLUDED(mu_);

  Mutex mu_;  // Serializes adding; readers never take it.
  std::array<Slot, kCapacity> slots_;
  MethodStats overflow_;
};

}  // namespace zen::rpc

#endif  // ZEN_RPC_METHOD_METRICS_H_
