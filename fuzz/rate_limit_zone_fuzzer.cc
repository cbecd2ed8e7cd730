// Fuzzes the rate-limit zone against garbage in its mapping, as a hostile
// or buggy worker could write it: the input interleaves checks with writes
// of arbitrary bytes anywhere in the zone image (the lock word included).
// Every check must return, in bounds, without reading or writing outside
// the mapping (ASan and a guard-free mmap end catch that); afterwards a
// repair restores every invariant and the zone counts correctly again.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "agent/model/rate_limit_zone.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"

namespace {

constexpr size_t kWindowHistory = 8;

zen::RateLimitZone& Zone() {
  static zen::RateLimitZone* const zone = [] {
    zen::RateLimitZoneOptions options;
    options.bytes = 8192;  // ~30 windows: evictions happen
    options.max_requests_per_window = kWindowHistory;
    // A garbage lock word naming a live process costs each check this.
    options.lock_timeout = absl::Milliseconds(1);
    return zen::RateLimitZone::Create(options)->release();
  }();
  return *zone;
}

void ClearLockWord(zen::RateLimitZone& zone) {
  __atomic_store_n(reinterpret_cast<uint64_t*>(zone.image()), uint64_t{0},
                   __ATOMIC_RELEASE);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zen::fuzz::FuzzInput input(data, size);
  zen::RateLimitZone& zone = Zone();
  // Every input starts from an empty, sound zone.
  std::memset(zone.image(), 0, zone.image_bytes());
  zone.RepairForTesting();
  int64_t now = int64_t{1700000000} * 1000000000;
  for (int steps = 0; steps < 256 && input.remaining() > 0; ++steps) {
    switch (input.ConsumeByte() % 4) {
      case 0:
      case 1: {
        const std::string key = "k" + std::to_string(input.ConsumeByte() % 48);
        const int64_t length = 1 + input.ConsumeInt<uint16_t>() * int64_t{1000};
        const int64_t limit = input.ConsumeInRange(0, kWindowHistory);
        now += input.ConsumeInt<uint16_t>() * int64_t{1000} -
               (input.ConsumeBool() ? 50000 : 0);
        zen::ZoneCount count;
        const zen::ZoneOutcome outcome =
            zone.Count(key, length, limit, now, &count);
        FUZZ_CHECK(outcome != zen::ZoneOutcome::kUnsupported);
        if (outcome == zen::ZoneOutcome::kCounted) {
          FUZZ_CHECK(count.current_requests >= 0);
          FUZZ_CHECK(count.current_requests <=
                     static_cast<int64_t>(kWindowHistory));
          FUZZ_CHECK(count.time_remaining_ns >= 0);
        }
        break;
      }
      case 2: {  // garbage anywhere in the image
        const size_t at = input.ConsumeInRange(0, zone.image_bytes() - 1);
        const absl::string_view bytes = input.ConsumeBytes(std::min<size_t>(
            input.ConsumeInRange(1, 16), zone.image_bytes() - at));
        std::memcpy(zone.image() + at, bytes.data(), bytes.size());
        break;
      }
      case 3:  // a lock word of a process that may live or not, then free
        if (input.ConsumeBool()) ClearLockWord(zone);
        break;
    }
  }
  ClearLockWord(zone);
  zone.RepairForTesting();
  std::string problem;
  if (!zone.CheckInvariants(&problem)) {
    std::fprintf(stderr, "after repair: %s\n", problem.c_str());
    FUZZ_CHECK(false);
  }
  // And it counts: a key never used is admitted, then throttled at limit 1.
  zen::ZoneCount count;
  FUZZ_CHECK(zone.Count("fresh", 1000000000, 1, now, &count) ==
             zen::ZoneOutcome::kCounted);
  FUZZ_CHECK(!count.throttled);
  FUZZ_CHECK(zone.Count("fresh", 1000000000, 1, now, &count) ==
             zen::ZoneOutcome::kCounted);
  FUZZ_CHECK(count.throttled);
  return 0;
}
