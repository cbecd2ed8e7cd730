// The bytes of a RateLimitZone's mapping, shared by rate_limit_zone*.cc.
// Internal: nothing outside the zone's own files includes this.
//
//   [ZoneHeader, 64 B] [bucket heads, 4 B each] [slots, slot_bytes each]
//
// Links are slot index + 1, so the zeroed mapping reads as "no link". Every
// field is read and written with relaxed atomic operations (the lock orders
// them): another process may write any field at any time, so each value is
// loaded once, checked, then used.
#ifndef ZEN_AGENT_MODEL_RATE_LIMIT_ZONE_LAYOUT_H_
#define ZEN_AGENT_MODEL_RATE_LIMIT_ZONE_LAYOUT_H_

#include <cstddef>
#include <cstdint>

#include "agent/model/rate_limit_zone.h"

namespace zen {
namespace zone_layout {

struct alignas(64) ZoneHeader {
  uint64_t lock;        // agent/model/zone_lock.h
  uint32_t lru_head;    // most recently used window
  uint32_t lru_tail;    // least recently used window
  uint32_t free_head;   // a free slot; free slots chain by bucket_next
  uint32_t used;        // windows in use
  uint64_t clock;       // last use stamp handed out
  uint64_t evicted;     // windows evicted for room
  uint64_t recoveries;  // lock takeovers from dead holders
};
static_assert(sizeof(ZoneHeader) == 64, "one cache line");

template <typename T>
T Load(const T& field) {
  return __atomic_load_n(&field, __ATOMIC_RELAXED);
}
template <typename T>
void Store(T& field, T value) {
  __atomic_store_n(&field, value, __ATOMIC_RELAXED);
}

// A window's history is a ring of timestamps whose head and count change
// together in one 8-byte store, so a process killed at any point leaves
// either the old history or the new one.
inline uint64_t PackRing(uint32_t head, uint32_t count) {
  return (uint64_t{count} << 32) | head;
}
inline uint32_t RingHead(uint64_t state) {
  return static_cast<uint32_t>(state);
}
inline uint32_t RingCount(uint64_t state) {
  return static_cast<uint32_t>(state >> 32);
}

}  // namespace zone_layout

// One window. Followed in the mapping by its ring of int64 timestamps
// (Unix nanoseconds, oldest first).
struct RateLimitZone::Slot {
  uint32_t in_use;       // 1 for a window, anything else is free
  uint32_t bucket_next;  // next in the hash chain (or in the free list)
  uint32_t lru_prev;     // more recently used
  uint32_t lru_next;     // less recently used
  uint64_t hash;         // of key, a cache (Repair recomputes it)
  uint64_t stamp;        // ZoneHeader::clock at its last use
  int64_t length_ns;     // the window length at its last check
  uint64_t ring_state;   // PackRing(head, count)
  uint32_t key_len;
  uint32_t reserved;
  char key[kZoneKeyBytes];
};

}  // namespace zen

#endif  // ZEN_AGENT_MODEL_RATE_LIMIT_ZONE_LAYOUT_H_
