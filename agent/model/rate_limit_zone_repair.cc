// RateLimitZone's Repair and invariant checker: rebuilding every link from
// the windows themselves, and checking that the links agree with them.
#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "agent/model/rate_limit_zone.h"
#include "agent/model/rate_limit_zone_layout.h"
#include "agent/model/zone_lock.h"

namespace zen {

using zone_layout::Load;
using zone_layout::PackRing;
using zone_layout::RingCount;
using zone_layout::RingHead;
using zone_layout::Store;
using zone_layout::ZoneHeader;

namespace {

// Whether a window's history is in bounds and oldest first.
bool HistoryIsValid(uint64_t state, const int64_t* times, size_t capacity,
                    std::string* problem) {
  const uint32_t head = RingHead(state);
  const uint32_t count = RingCount(state);
  if (head >= capacity || count > capacity) {
    if (problem) *problem = absl::StrCat("ring head ", head, " count ", count);
    return false;
  }
  for (uint32_t i = 1; i < count; ++i) {
    if (Load(times[(head + i) % capacity]) <
        Load(times[(head + i - 1) % capacity])) {
      if (problem) *problem = absl::StrCat("history unsorted at ", i);
      return false;
    }
  }
  return true;
}

}  // namespace

// Keeps every window whose key and history are sound (with its history:
// forgetting one would let it admit more than its limit), drops the rest,
// and rebuilds the hash chains, the LRU list (from the use stamps) and the
// free list. Idempotent, so a process killed while repairing leaves work
// the next one redoes.
void RateLimitZone::Repair() {
  auto* header = reinterpret_cast<ZoneHeader*>(base_);
  auto* buckets = reinterpret_cast<uint32_t*>(base_ + sizeof(ZoneHeader));
  for (size_t b = 0; b < bucket_count_; ++b) Store(buckets[b], uint32_t{0});
  std::vector<std::pair<uint64_t, uint32_t>> by_use;  // (stamp, index)
  std::vector<uint32_t> free_slots;
  for (uint32_t i = 0; i < slot_count_; ++i) {
    Slot* s = slot(i);
    const uint32_t key_len = Load(s->key_len);
    if (Load(s->in_use) != 1 || key_len > kZoneKeyBytes) {
      free_slots.push_back(i);
      continue;
    }
    if (!HistoryIsValid(Load(s->ring_state), ring(i), ring_capacity_,
                        nullptr)) {
      Store(s->ring_state, uint64_t{0});
    }
    char key[kZoneKeyBytes];
    std::memcpy(key, s->key, key_len);
    const absl::string_view view(key, key_len);
    const uint64_t hash = Hash(view);
    uint32_t& bucket = buckets[hash & (bucket_count_ - 1)];
    bool duplicate = false;
    // Links written above in this pass; bounded all the same, since
    // another process may be writing them too.
    uint32_t link = Load(bucket);
    for (size_t steps = 0;
         link != 0 && link <= slot_count_ && steps < slot_count_;
         ++steps, link = Load(slot(link - 1)->bucket_next)) {
      const Slot* other = slot(link - 1);
      if (Load(other->key_len) == key_len &&
          std::memcmp(other->key, key, key_len) == 0) {
        duplicate = true;  // only garbage makes two; keep the first
        break;
      }
    }
    if (duplicate) {
      free_slots.push_back(i);
      continue;
    }
    Store(s->hash, hash);
    Store(s->bucket_next, Load(bucket));
    Store(bucket, i + 1);
    by_use.emplace_back(Load(s->stamp), i);
  }
  std::sort(by_use.begin(), by_use.end());
  uint32_t newer = 0;  // walking from the most recent back
  Store(header->lru_head, uint32_t{0});
  Store(header->lru_tail, uint32_t{0});
  uint64_t clock = 0;
  for (auto it = by_use.rbegin(); it != by_use.rend(); ++it) {
    const uint32_t index = it->second;
    // Stamps strictly decrease along the list even if garbage repeated one.
    const uint64_t stamp = by_use.size() - (it - by_use.rbegin());
    Store(slot(index)->stamp, stamp);
    clock = std::max(clock, stamp);
    Store(slot(index)->lru_prev, newer);
    Store(slot(index)->lru_next, uint32_t{0});
    if (newer == 0) {
      Store(header->lru_head, index + 1);
    } else {
      Store(slot(newer - 1)->lru_next, index + 1);
    }
    newer = index + 1;
  }
  Store(header->lru_tail, newer);
  Store(header->clock, clock);
  uint32_t free_head = 0;
  for (auto it = free_slots.rbegin(); it != free_slots.rend(); ++it) {
    Slot* s = slot(*it);
    Store(s->in_use, uint32_t{0});
    Store(s->bucket_next, free_head);
    free_head = *it + 1;
  }
  Store(header->free_head, free_head);
  Store(header->used, static_cast<uint32_t>(by_use.size()));
}

void RateLimitZone::RepairForTesting() {
  auto* header = reinterpret_cast<ZoneHeader*>(base_);
  if (AcquireZoneLock(&header->lock, lock_timeout_) ==
      ZoneLockResult::kTimedOut) {
    return;
  }
  Repair();
  ReleaseZoneLock(&header->lock);
}

bool RateLimitZone::CheckInvariants(std::string* problem) {
  auto* header = reinterpret_cast<ZoneHeader*>(base_);
  switch (AcquireZoneLock(&header->lock, lock_timeout_)) {
    case ZoneLockResult::kTimedOut:
      *problem = "lock not free within lock_timeout";
      return false;
    case ZoneLockResult::kAcquiredFromDead:  // as the next Count() would
      Store(header->recoveries, Load(header->recoveries) + 1);
      Repair();
      break;
    case ZoneLockResult::kAcquired:
      break;
  }
  const bool ok = CheckInvariantsLocked(problem);
  ReleaseZoneLock(&header->lock);
  return ok;
}

bool RateLimitZone::CheckInvariantsLocked(std::string* problem) {
  auto* header = reinterpret_cast<ZoneHeader*>(base_);
  auto* buckets = reinterpret_cast<uint32_t*>(base_ + sizeof(ZoneHeader));
  size_t used = 0;
  for (uint32_t i = 0; i < slot_count_; ++i) {
    const Slot* s = slot(i);
    if (Load(s->in_use) != 1) continue;
    ++used;
    std::string why;
    if (Load(s->key_len) > kZoneKeyBytes) {
      *problem = absl::StrCat("window ", i, " key length ", Load(s->key_len));
      return false;
    }
    if (!HistoryIsValid(Load(s->ring_state), ring(i), ring_capacity_, &why)) {
      *problem = absl::StrCat("window ", i, ": ", why);
      return false;
    }
  }
  if (used != Load(header->used)) {
    *problem =
        absl::StrCat(used, " windows in use, header says ", Load(header->used));
    return false;
  }
  // The LRU list: every used window once, most recent first.
  size_t listed = 0;
  uint32_t prev = 0;
  uint64_t prev_stamp = UINT64_MAX;
  for (uint32_t link = Load(header->lru_head); link != 0;) {
    if (link > slot_count_ || ++listed > used) {
      *problem = absl::StrCat("LRU list: bad link ", link, " or a cycle");
      return false;
    }
    const Slot* s = slot(link - 1);
    if (Load(s->in_use) != 1 || Load(s->lru_prev) != prev ||
        Load(s->stamp) >= prev_stamp) {
      *problem = absl::StrCat("LRU list: window ", link - 1, " out of place");
      return false;
    }
    prev = link;
    prev_stamp = Load(s->stamp);
    link = Load(s->lru_next);
  }
  if (listed != used || Load(header->lru_tail) != prev) {
    *problem = absl::StrCat("LRU list holds ", listed, " of ", used);
    return false;
  }
  // The hash chains: every used window once, in its key's bucket.
  size_t chained = 0;
  for (size_t b = 0; b < bucket_count_; ++b) {
    for (uint32_t link = Load(buckets[b]); link != 0;) {
      if (link > slot_count_ || ++chained > used) {
        *problem = absl::StrCat("bucket ", b, ": bad link or a cycle");
        return false;
      }
      const Slot* s = slot(link - 1);
      const absl::string_view key(s->key, Load(s->key_len));
      if (Load(s->in_use) != 1 || Hash(key) != Load(s->hash) ||
          (Load(s->hash) & (bucket_count_ - 1)) != b) {
        *problem = absl::StrCat("bucket ", b, ": window ", link - 1,
                                " does not belong");
        return false;
      }
      link = Load(s->bucket_next);
    }
  }
  if (chained != used) {
    *problem = absl::StrCat("hash chains hold ", chained, " of ", used);
    return false;
  }
  size_t free_count = 0;
  for (uint32_t link = Load(header->free_head); link != 0;) {
    if (link > slot_count_ || ++free_count > slot_count_ - used ||
        Load(slot(link - 1)->in_use) == 1) {
      *problem = absl::StrCat("free list: bad link ", link);
      return false;
    }
    link = Load(slot(link - 1)->bucket_next);
  }
  if (free_count != slot_count_ - used) {
    *problem = absl::StrCat("free list holds ", free_count, " of ",
                            slot_count_ - used);
    return false;
  }
  return true;
}

}  // namespace zen
