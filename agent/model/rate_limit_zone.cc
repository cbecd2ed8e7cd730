#include "agent/model/rate_limit_zone.h"

#include <openssl/sha.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "agent/model/rate_limit_zone_layout.h"
#include "agent/model/zone_lock.h"

namespace zen {
namespace {

using zone_layout::Load;
using zone_layout::PackRing;
using zone_layout::RingCount;
using zone_layout::RingHead;
using zone_layout::Store;
using zone_layout::ZoneHeader;

constexpr size_t kMaxRingCapacity = size_t{1} << 20;

// A long key keeps this many bytes of itself, then its SHA-256.
constexpr size_t kLongKeyPrefixBytes = kZoneKeyBytes - SHA256_DIGEST_LENGTH;

size_t RoundUp(size_t value, size_t to) { return (value + to - 1) / to * to; }

size_t PowerOfTwoAtLeast(size_t value) {
  size_t result = 1;
  while (result < value) result <<= 1;
  return result;
}

// t + length <= now, without overflow whatever the values.
bool Expired(int64_t t, int64_t length_ns, int64_t now_ns) {
  int64_t end;
  if (__builtin_add_overflow(t, length_ns, &end)) return t < 0;
  return end <= now_ns;
}

int64_t SaturatingRemaining(int64_t front, int64_t length_ns, int64_t now) {
  int64_t end, remaining;
  if (__builtin_add_overflow(front, length_ns, &end)) return INT64_MAX;
  if (__builtin_sub_overflow(end, now, &remaining)) {
    return now < 0 ? INT64_MAX : 0;
  }
  return remaining;
}

int64_t CeilMillis(int64_t nanos) {
  return nanos <= 0 ? 0 : nanos / 1000000 + (nanos % 1000000 != 0);
}

// The key as the zone keeps it, in `buffer` when it must be digested.
absl::string_view StoredKey(absl::string_view key,
                            char (&buffer)[kZoneKeyBytes]) {
  if (key.size() <= kZoneKeyBytes) return key;
  std::memcpy(buffer, key.data(), kLongKeyPrefixBytes);
  SHA256(reinterpret_cast<const uint8_t*>(key.data()), key.size(),
         reinterpret_cast<uint8_t*>(buffer + kLongKeyPrefixBytes));
  return absl::string_view(buffer, kZoneKeyBytes);
}

}  // namespace

size_t RateLimitZone::WindowBytes(size_t max_requests_per_window) {
  // The slot, its ring, and at most two bucket heads (the bucket count is
  // the power of two at or above the window count).
  return sizeof(Slot) + 8 * max_requests_per_window + 2 * sizeof(uint32_t);
}

absl::StatusOr<std::unique_ptr<RateLimitZone>> RateLimitZone::Create(
    const RateLimitZoneOptions& options) {
  if (options.max_requests_per_window == 0 ||
      options.max_requests_per_window > kMaxRingCapacity) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rate-limit zone: max_requests_per_window must be in [1, ",
        kMaxRingCapacity, "], got ", options.max_requests_per_window));
  }
  const size_t slot_bytes =
      RoundUp(sizeof(Slot) + 8 * options.max_requests_per_window, 8);
  // Largest window count whose buckets and slots fit after the header.
  size_t slots = 0;
  size_t buckets = 0;
  size_t slots_offset = 0;
  if (options.bytes > sizeof(ZoneHeader)) {
    slots = (options.bytes - sizeof(ZoneHeader)) / (slot_bytes + 4);
    slots = std::min<size_t>(slots, UINT32_MAX - 1);
    while (slots >= 2) {
      buckets = PowerOfTwoAtLeast(slots);
      slots_offset = RoundUp(sizeof(ZoneHeader) + 4 * buckets, 64);
      if (slots_offset + slots * slot_bytes <= options.bytes) break;
      slots -= std::max<size_t>(1, slots / 64);
    }
  }
  if (slots < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("rate-limit zone: ", options.bytes,
                     " bytes hold fewer than 2 windows of ",
                     WindowBytes(options.max_requests_per_window), " bytes"));
  }
  void* base = mmap(nullptr, options.bytes, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) {
    return absl::ErrnoToStatus(errno, "rate-limit zone: mmap");
  }
  std::unique_ptr<RateLimitZone> zone(
      new RateLimitZone(static_cast<uint8_t*>(base), options.bytes, slots,
                        options.max_requests_per_window, options.lock_timeout));
  zone->Repair();  // links every slot into the free list
  return zone;
}

RateLimitZone::RateLimitZone(uint8_t* base, size_t bytes, size_t slot_count,
                             size_t ring_capacity, absl::Duration lock_timeout)
    : base_(base),
      bytes_(bytes),
      slot_count_(slot_count),
      ring_capacity_(ring_capacity),
      bucket_count_(PowerOfTwoAtLeast(slot_count)),
      slots_offset_(RoundUp(sizeof(ZoneHeader) + 4 * bucket_count_, 64)),
      slot_bytes_(RoundUp(sizeof(Slot) + 8 * ring_capacity, 8)),
      lock_timeout_(lock_timeout),
      seed_(std::random_device()() * uint64_t{0x9E3779B97F4A7C15} ^
            std::random_device()()) {}

RateLimitZone::~RateLimitZone() { munmap(base_, bytes_); }

uint64_t RateLimitZone::Hash(absl::string_view key) const {
  return absl::Hash<std::pair<uint64_t, absl::string_view>>()(
      std::make_pair(seed_, key));
}

RateLimitZone::Slot* RateLimitZone::slot(uint32_t index) const {
  return reinterpret_cast<Slot*>(base_ + slots_offset_ + index * slot_bytes_);
}

int64_t* RateLimitZone::ring(uint32_t index) const {
  return reinterpret_cast<int64_t*>(base_ + slots_offset_ +
                                    index * slot_bytes_ + sizeof(Slot));
}

ZoneOutcome RateLimitZone::Count(absl::string_view key, int64_t length_ns,
                                 int64_t limit, int64_t now_ns,
                                 ZoneCount* out) {
  limit = std::max<int64_t>(limit, 0);
  if (static_cast<uint64_t>(limit) > ring_capacity_) {
    return ZoneOutcome::kUnsupported;
  }
  char buffer[kZoneKeyBytes];
  const absl::string_view stored = StoredKey(key, buffer);
  const uint64_t hash = Hash(stored);
  auto* header = reinterpret_cast<ZoneHeader*>(base_);
  switch (AcquireZoneLock(&header->lock, lock_timeout_)) {
    case ZoneLockResult::kTimedOut:
      return ZoneOutcome::kBusy;
    case ZoneLockResult::kAcquiredFromDead:
      Store(header->recoveries, Load(header->recoveries) + 1);
      Repair();
      break;
    case ZoneLockResult::kAcquired:
      break;
  }
  const ZoneOutcome outcome =
      CountLocked(stored, hash, length_ns, limit, now_ns, out);
  ReleaseZoneLock(&header->lock);
  return outcome;
}

ZoneOutcome RateLimitZone::CountLocked(absl::string_view key, uint64_t hash,
                                       int64_t length_ns, int64_t limit,
                                       int64_t now_ns, ZoneCount* out) {
  int64_t found = FindOrInsert(key, hash);
  if (found < 0) {
    Repair();
    found = FindOrInsert(key, hash);
    // Only a process writing into the zone right now gets here.
    if (found < 0) return ZoneOutcome::kBusy;
  }
  const auto index = static_cast<uint32_t>(found);
  Slot* window = slot(index);
  int64_t* times = ring(index);
  const auto capacity = static_cast<uint32_t>(ring_capacity_);
  Store(window->length_ns, length_ns);
  const uint64_t state = Load(window->ring_state);
  uint32_t head = RingHead(state);
  uint32_t count = RingCount(state);
  if (head >= capacity || count > capacity) head = count = 0;  // garbage
  while (count > 0 && Expired(Load(times[head]), length_ns, now_ns)) {
    head = head + 1 == capacity ? 0 : head + 1;
    --count;
  }
  out->throttled = count >= limit;
  if (!out->throttled) {
    int64_t at = now_ns;
    if (count > 0) {
      at = std::max(now_ns, Load(times[(head + count - 1) % capacity]));
    }
    Store(times[(head + count) % capacity], at);
    ++count;
  }
  Store(window->ring_state, PackRing(head, count));  // the one commit
  out->current_requests = count;
  out->time_remaining_ns = 0;
  if (count > 0) {
    out->time_remaining_ns =
        SaturatingRemaining(Load(times[head]), length_ns, now_ns);
  } else if (out->throttled) {
    out->time_remaining_ns = length_ns;  // limit 0
  }
  out->time_remaining_ms = CeilMillis(out->time_remaining_ns);
  ReclaimExpired(now_ns);
  return ZoneOutcome::kCounted;
}

int64_t RateLimitZone::FindOrInsert(absl::string_view key, uint64_t hash) {
  auto* header = reinterpret_cast<ZoneHeader*>(base_);
  auto* buckets = reinterpret_cast<uint32_t*>(base_ + sizeof(ZoneHeader));
  uint32_t& bucket = buckets[hash & (bucket_count_ - 1)];
  uint32_t link = Load(bucket);
  for (size_t steps = 0; link != 0; ++steps) {
    if (link > slot_count_ || steps >= slot_count_) return -1;
    Slot* candidate = slot(link - 1);
    if (Load(candidate->in_use) != 1) return -1;
    if (Load(candidate->hash) == hash &&
        Load(candidate->key_len) == key.size() &&
        std::memcmp(candidate->key, key.data(), key.size()) == 0) {
      if (!Unlink(link - 1) || !LinkFront(link - 1)) return -1;
      Store(candidate->stamp, Load(header->clock) + 1);
      Store(header->clock, Load(candidate->stamp));
      return link - 1;
    }
    link = Load(candidate->bucket_next);
  }
  uint32_t index;
  const uint32_t free_link = Load(header->free_head);
  if (free_link != 0) {
    if (free_link > slot_count_ || Load(slot(free_link - 1)->in_use) == 1) {
      return -1;
    }
    index = free_link - 1;
    Store(header->free_head, Load(slot(index)->bucket_next));
  } else {
    // Full: the least recently used window goes, and its history with it.
    const uint32_t tail = Load(header->lru_tail);
    if (tail == 0 || tail > slot_count_) return -1;
    index = tail - 1;
    Slot* victim = slot(index);
    if (Load(victim->in_use) != 1 || !Unlink(index) ||
        !RemoveFromBucket(index, Load(victim->hash))) {
      return -1;
    }
    Store(victim->in_use, uint32_t{0});
    Store(header->used, Load(header->used) - 1);
    Store(header->evicted, Load(header->evicted) + 1);
  }
  // Filled while free, then published: killed before in_use is set, it is
  // still free; after, Repair links it from its complete key.
  Slot* fresh = slot(index);
  std::memcpy(fresh->key, key.data(), key.size());
  Store(fresh->key_len, static_cast<uint32_t>(key.size()));
  Store(fresh->hash, hash);
  Store(fresh->ring_state, uint64_t{0});
  Store(fresh->stamp, Load(header->clock) + 1);
  Store(header->clock, Load(fresh->stamp));
  Store(fresh->lru_prev, uint32_t{0});
  Store(fresh->lru_next, uint32_t{0});
  Store(fresh->bucket_next, Load(bucket));
  Store(fresh->in_use, uint32_t{1});
  Store(bucket, index + 1);
  Store(header->used, Load(header->used) + 1);
  if (!LinkFront(index)) return -1;
  return index;
}

bool RateLimitZone::Unlink(uint32_t index) {
  auto* header = reinterpret_cast<ZoneHeader*>(base_);
  Slot* s = slot(index);
  const uint32_t prev = Load(s->lru_prev);
  const uint32_t next = Load(s->lru_next);
  if (prev > slot_count_ || next > slot_count_) return false;
  uint32_t& from_prev = prev != 0 ? slot(prev - 1)->lru_next : header->lru_head;
  uint32_t& from_next = next != 0 ? slot(next - 1)->lru_prev : header->lru_tail;
  if (Load(from_prev) != index + 1 || Load(from_next) != index + 1) {
    return false;
  }
  Store(from_prev, next);
  Store(from_next, prev);
  Store(s->lru_prev, uint32_t{0});
  Store(s->lru_next, uint32_t{0});
  return true;
}

bool RateLimitZone::LinkFront(uint32_t index) {
  auto* header = reinterpret_cast<ZoneHeader*>(base_);
  const uint32_t head = Load(header->lru_head);
  if (head > slot_count_ || head == index + 1) return false;
  Store(slot(index)->lru_prev, uint32_t{0});
  Store(slot(index)->lru_next, head);
  if (head != 0) {
    Store(slot(head - 1)->lru_prev, index + 1);
  } else {
    Store(header->lru_tail, index + 1);
  }
  Store(header->lru_head, index + 1);
  return true;
}

bool RateLimitZone::RemoveFromBucket(uint32_t index, uint64_t hash) {
  auto* buckets = reinterpret_cast<uint32_t*>(base_ + sizeof(ZoneHeader));
  uint32_t* link = &buckets[hash & (bucket_count_ - 1)];
  for (size_t steps = 0; steps <= slot_count_; ++steps) {
    const uint32_t value = Load(*link);
    if (value == 0 || value > slot_count_) return false;
    if (value == index + 1) {
      Store(*link, Load(slot(index)->bucket_next));
      return true;
    }
    link = &slot(value - 1)->bucket_next;
  }
  return false;
}

void RateLimitZone::Free(uint32_t index) {
  auto* header = reinterpret_cast<ZoneHeader*>(base_);
  Slot* s = slot(index);
  if (!Unlink(index) || !RemoveFromBucket(index, Load(s->hash))) return;
  Store(s->in_use, uint32_t{0});
  Store(s->bucket_next, Load(header->free_head));
  Store(header->free_head, index + 1);
  Store(header->used, Load(header->used) - 1);
}

void RateLimitZone::ReclaimExpired(int64_t now_ns) {
  auto* header = reinterpret_cast<ZoneHeader*>(base_);
  const auto capacity = static_cast<uint32_t>(ring_capacity_);
  // As RateLimiter: a few per check, enough to outpace creation.
  for (int i = 0; i < 2; ++i) {
    const uint32_t tail = Load(header->lru_tail);
    if (tail == 0 || tail > slot_count_) return;
    const Slot* oldest = slot(tail - 1);
    const uint64_t state = Load(oldest->ring_state);
    const uint32_t head = RingHead(state);
    const uint32_t count = RingCount(state);
    if (head >= capacity || count > capacity) return;
    if (count > 0 &&
        !Expired(Load(ring(tail - 1)[(head + count - 1) % capacity]),
                 Load(oldest->length_ns), now_ns)) {
      return;
    }
    Free(tail - 1);
  }
}

size_t RateLimitZone::tracked_windows() const {
  return Load(reinterpret_cast<const ZoneHeader*>(base_)->used);
}

uint64_t RateLimitZone::evicted_windows() const {
  return Load(reinterpret_cast<const ZoneHeader*>(base_)->evicted);
}

uint64_t RateLimitZone::counted_checks() const {
  return Load(reinterpret_cast<const ZoneHeader*>(base_)->clock);
}

uint64_t RateLimitZone::recoveries() const {
  return Load(reinterpret_cast<const ZoneHeader*>(base_)->recoveries);
}

}  // namespace zen
