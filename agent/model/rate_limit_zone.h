// RateLimitZone: the rate limiter's sliding windows in memory that a parent
// shares with the workers it forks, so a worker decides a rate limit itself
// (no round trip) while every worker still counts in the same windows.
//
// Create() maps an anonymous MAP_SHARED region: nothing on disk, no name;
// it reaches only processes forked after it (children, their children).
// Create it in the parent before the first fork; every process then calls
// Count() on its inherited copy of this object.
//
// Semantics, exactly RateLimiter's (agent/model/rate_limiter.h) for one window
// key: an exact sliding window; a request is admitted iff fewer than
// `limit` requests were admitted in the `length_ns` ending at `now_ns`; a
// request admitted at t holds its slot during [t, t + length); throttled
// requests are not recorded; a `now_ns` earlier than the window's newest
// request counts as that request's time; limit 0 admits nothing; the least
// recently used window is forgotten when the zone is full; windows whose
// requests all expired are reclaimed as checks go by. Keys are bytes; a key
// longer than kZoneKeyBytes is kept as its first bytes and its SHA-256, so
// distinct keys keep distinct windows.
//
// Memory is fixed at Create(): each window takes WindowBytes() (a header,
// kZoneKeyBytes of key and 8 bytes per request it can remember), and a
// window remembers at most `max_requests_per_window` requests, so a limit
// above that cannot be decided here (kUnsupported: ask the parent).
//
// Crash safety: one lock word guards the zone (agent/model/zone_lock.h). A
// process killed at any instruction while holding it is detected by the
// next process to wait (within about a millisecond), which takes the lock
// over and rebuilds the zone's links from its windows (Repair): a window's
// history is changed by one 8-byte store, so no admitted request is lost.
//
// Trust: any process mapping the zone may write anything into it. Every
// index and length read from the mapping is checked before use, every walk
// is bounded, every wait ends by `lock_timeout`: garbage makes answers
// wrong (or the zone busy: kBusy), never a crash, a hang, or an access
// outside the mapping. The zone's geometry lives in this object (process
// memory), never read back from the mapping.
//
// Thread-safety: Count() may be called from any number of threads and
// processes at once. The object must outlive every call; destroying it
// unmaps the zone in this process only.
#ifndef ZEN_AGENT_MODEL_RATE_LIMIT_ZONE_H_
#define ZEN_AGENT_MODEL_RATE_LIMIT_ZONE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace zen {

// Key bytes a window keeps inline; longer keys keep a prefix and a digest.
inline constexpr size_t kZoneKeyBytes = 128;

struct RateLimitZoneOptions {
  // Size of the mapping. The default holds 12,537 windows of 100 requests
  // (992 bytes each with their share of hash buckets).
  size_t bytes = size_t{12} << 20;
  // Most requests one window remembers, so the largest limit decided here.
  size_t max_requests_per_window = 100;
  // Longest a check waits for the zone's lock (held by a live process that
  // does not let go: stopped in a debugger, or hostile) before kBusy.
  absl::Duration lock_timeout = absl::Milliseconds(100);
};

// What Count() says, as RateLimitResult's fields.
struct ZoneCount {
  bool throttled = false;
  // Requests counted in the window, this one included if admitted.
  int64_t current_requests = 0;
  // Until the oldest counted request leaves the window (0 when empty; the
  // window length when limit is 0), in nanoseconds and in milliseconds
  // rounded up as RateLimitResult::time_remaining_ms.
  int64_t time_remaining_ns = 0;
  int64_t time_remaining_ms = 0;
};

enum class ZoneOutcome {
  kCounted,      // *out holds the decision
  kUnsupported,  // limit > max_requests_per_window: decide elsewhere
  kBusy,         // the lock was not free within lock_timeout
};

class RateLimitZone {
 public:
  // Maps the zone. Fails (InvalidArgument) when `bytes` holds fewer than 2
  // windows or max_requests_per_window is 0 or above 1<<20, and with the
  // mmap error when the mapping fails.
  static absl::StatusOr<std::unique_ptr<RateLimitZone>> Create(
      const RateLimitZoneOptions& options);
  ~RateLimitZone();
  RateLimitZone(const RateLimitZone&) = delete;
  RateLimitZone& operator=(const RateLimitZone&) = delete;

  // Bytes one window takes in a zone with these options.
  static size_t WindowBytes(size_t max_requests_per_window);

  // Counts one request in window `key` (length `length_ns` > 0, limit
  // `limit`) at `now_ns`. No allocation and, when the lock is free, no
  // syscall.
  ZoneOutcome Count(absl::string_view key, int64_t length_ns, int64_t limit,
                    int64_t now_ns, ZoneCount* out);

  // Checks every invariant of the zone under its lock: each used window
  // once in the LRU list (ordered by last use) and in its hash chain, each
  // free one in the free list, each window's history in bounds and sorted.
  // Returns false, describing the first problem in `*problem`, otherwise.
  // Taking the lock over from a dead holder repairs first, as Count does.
  // Allocates; for tests and diagnostics.
  bool CheckInvariants(std::string* problem);

  // Rebuilds every link from the windows themselves, as after a crash.
  // For tests and the fuzz target; Count() calls it when it must.
  void RepairForTesting();

  size_t capacity_windows() const { return slot_count_; }
  size_t max_requests_per_window() const { return ring_capacity_; }
  // Windows in use, windows evicted for room, and lock takeovers from dead
  // holders, as the zone's counters say (any process may have changed them).
  size_t tracked_windows() const;
  uint64_t evicted_windows() const;
  uint64_t recoveries() const;
  // Checks that counted a request in the zone since it was created, by
  // every process: its use clock, which each counted check advances.
  uint64_t counted_checks() const;

  // The mapping itself, for tests and the fuzz target that write garbage.
  uint8_t* image() const { return base_; }
  size_t image_bytes() const { return bytes_; }

 private:
  struct Slot;
  RateLimitZone(uint8_t* base, size_t bytes, size_t slot_count,
                size_t ring_capacity, absl::Duration lock_timeout);

  // Under the lock.
  ZoneOutcome CountLocked(absl::string_view key, uint64_t hash,
                          int64_t length_ns, int64_t limit, int64_t now_ns,
                          ZoneCount* out);
  // Index of the window `key` (created, or an evicted one reused), most
  // recently used now; -1 when the links are inconsistent (then Repair).
  int64_t FindOrInsert(absl::string_view key, uint64_t hash);
  bool Unlink(uint32_t index);
  bool LinkFront(uint32_t index);
  bool RemoveFromBucket(uint32_t index, uint64_t hash);
  void Free(uint32_t index);
  void ReclaimExpired(int64_t now_ns);
  void Repair();
  bool CheckInvariantsLocked(std::string* problem);

  uint64_t Hash(absl::string_view key) const;
  Slot* slot(uint32_t index) const;
  int64_t* ring(uint32_t index) const;

  uint8_t* const base_;
  const size_t bytes_;
  const size_t slot_count_;
  const size_t ring_capacity_;
  const size_t bucket_count_;  // a power of two
  const size_t slots_offset_;
  const size_t slot_bytes_;
  const absl::Duration lock_timeout_;
  const uint64_t seed_;
};

}  // namespace zen

#endif  // ZEN_AGENT_MODEL_RATE_LIMIT_ZONE_H_
