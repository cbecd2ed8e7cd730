// RateLimiter's window semantics (rate_limiter_test.cc), against the zone,
// and the zone's own bounds: keys, memory, garbage written into it.
#include "agent/model/rate_limit_zone.h"

#include <atomic>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

constexpr int64_t kStartNs = int64_t{1700000000000} * 1000000;
constexpr int64_t kSecondNs = 1000000000;

int64_t At(int64_t ms) { return kStartNs + ms * 1000000; }

std::unique_ptr<RateLimitZone> MakeZone(size_t bytes = size_t{1} << 20,
                                        size_t per_window = 100) {
  RateLimitZoneOptions options;
  options.bytes = bytes;
  options.max_requests_per_window = per_window;
  absl::StatusOr<std::unique_ptr<RateLimitZone>> zone =
      RateLimitZone::Create(options);
  EXPECT_TRUE(zone.ok()) << zone.status();
  return zone.ok() ? *std::move(zone) : nullptr;
}

ZoneCount CountOne(RateLimitZone& zone, absl::string_view key, int64_t limit,
                   int64_t window_ms, int64_t now_ns) {
  ZoneCount count;
  EXPECT_EQ(zone.Count(key, window_ms * 1000000, limit, now_ns, &count),
            ZoneOutcome::kCounted);
  return count;
}

void ExpectSound(RateLimitZone& zone) {
  std::string problem;
  EXPECT_TRUE(zone.CheckInvariants(&problem)) << problem;
}

TEST(RateLimitZoneTest, AdmitsExactlyMaxRequestsPerWindow) {
  auto zone = MakeZone();
  for (int i = 1; i <= 3; ++i) {
    ZoneCount count = CountOne(*zone, "k", 3, 1000, At(0));
    EXPECT_FALSE(count.throttled) << i;
    EXPECT_EQ(count.current_requests, i);
  }
  ZoneCount fourth = CountOne(*zone, "k", 3, 1000, At(0));
  EXPECT_TRUE(fourth.throttled);
  EXPECT_EQ(fourth.current_requests, 3);
  EXPECT_EQ(fourth.time_remaining_ms, 1000);
  EXPECT_EQ(fourth.time_remaining_ns, kSecondNs);
  ExpectSound(*zone);
}

TEST(RateLimitZoneTest, SlotFreesExactlyWhenTheWindowHasPassed) {
  auto zone = MakeZone();
  EXPECT_FALSE(CountOne(*zone, "k", 1, 1000, At(0)).throttled);
  ZoneCount early = CountOne(*zone, "k", 1, 1000, At(999));
  EXPECT_TRUE(early.throttled);
  EXPECT_EQ(early.time_remaining_ms, 1);
  ZoneCount late_by_a_nanosecond_less =
      CountOne(*zone, "k", 1, 1000, At(1000) - 1);
  EXPECT_TRUE(late_by_a_nanosecond_less.throttled);
  EXPECT_EQ(late_by_a_nanosecond_less.time_remaining_ns, 1);
  EXPECT_EQ(late_by_a_nanosecond_less.time_remaining_ms, 1);  // rounded up
  ZoneCount on_time = CountOne(*zone, "k", 1, 1000, At(1000));
  EXPECT_FALSE(on_time.throttled);
  EXPECT_EQ(on_time.current_requests, 1);
}

TEST(RateLimitZoneTest, WindowSlidesInsteadOfResetting) {
  auto zone = MakeZone();
  EXPECT_FALSE(CountOne(*zone, "k", 2, 1000, At(0)).throttled);
  EXPECT_FALSE(CountOne(*zone, "k", 2, 1000, At(600)).throttled);
  EXPECT_TRUE(CountOne(*zone, "k", 2, 1000, At(900)).throttled);
  // At 1000 the request of 0 leaves; the one of 600 stays until 1600.
  ZoneCount at_1000 = CountOne(*zone, "k", 2, 1000, At(1000));
  EXPECT_FALSE(at_1000.throttled);
  EXPECT_EQ(at_1000.current_requests, 2);
  ZoneCount at_1500 = CountOne(*zone, "k", 2, 1000, At(1500));
  EXPECT_TRUE(at_1500.throttled);
  EXPECT_EQ(at_1500.time_remaining_ms, 100);
}

TEST(RateLimitZoneTest, ThrottledRequestsAreNotCounted) {
  auto zone = MakeZone();
  EXPECT_FALSE(CountOne(*zone, "k", 1, 1000, At(0)).throttled);
  for (int ms = 100; ms < 1000; ms += 100) {
    EXPECT_TRUE(CountOne(*zone, "k", 1, 1000, At(ms)).throttled);
  }
  // Had the throttled retries counted, the window would still be full.
  EXPECT_FALSE(CountOne(*zone, "k", 1, 1000, At(1000)).throttled);
}

TEST(RateLimitZoneTest, EarlierNowCountsAsTheNewestRequestsTime) {
  auto zone = MakeZone();
  EXPECT_FALSE(CountOne(*zone, "k", 2, 1000, At(500)).throttled);
  // A racing caller's clock read 100 ms earlier: recorded at 500.
  ZoneCount earlier = CountOne(*zone, "k", 2, 1000, At(400));
  EXPECT_FALSE(earlier.throttled);
  EXPECT_EQ(earlier.time_remaining_ms, 1100);  // 500 + 1000 - 400
  // Both leave at 1500, not at 1400.
  EXPECT_TRUE(CountOne(*zone, "k", 2, 1000, At(1499)).throttled);
  ZoneCount freed = CountOne(*zone, "k", 2, 1000, At(1500));
  EXPECT_FALSE(freed.throttled);
  EXPECT_EQ(freed.current_requests, 1);
  ExpectSound(*zone);
}

TEST(RateLimitZoneTest, ZeroMaxRequestsThrottlesEverything) {
  auto zone = MakeZone();
  ZoneCount count = CountOne(*zone, "k", 0, 1000, At(0));
  EXPECT_TRUE(count.throttled);
  EXPECT_EQ(count.current_requests, 0);
  EXPECT_EQ(count.time_remaining_ms, 1000);
  EXPECT_TRUE(CountOne(*zone, "k", -5, 1000, At(0)).throttled);
}

TEST(RateLimitZoneTest, NewLimitsApplyToTheExistingWindow) {
  auto zone = MakeZone();
  for (int i = 0; i < 3; ++i) CountOne(*zone, "k", 5, 1000, At(0));
  EXPECT_TRUE(CountOne(*zone, "k", 3, 1000, At(1)).throttled);
  EXPECT_FALSE(CountOne(*zone, "k", 4, 1000, At(2)).throttled);
}

TEST(RateLimitZoneTest, KeysHaveSeparateWindows) {
  auto zone = MakeZone();
  EXPECT_FALSE(CountOne(*zone, "a", 1, 1000, At(0)).throttled);
  EXPECT_FALSE(CountOne(*zone, "b", 1, 1000, At(0)).throttled);
  EXPECT_FALSE(
      CountOne(*zone, std::string("a\0", 2), 1, 1000, At(0)).throttled);
  EXPECT_TRUE(CountOne(*zone, "a", 1, 1000, At(0)).throttled);
  EXPECT_EQ(zone->tracked_windows(), 3u);
}

TEST(RateLimitZoneTest, LongKeysKeepWindowsOfTheirOwn) {
  auto zone = MakeZone();
  const std::string prefix(300, 'x');
  const std::string a = prefix + "a";
  const std::string b = prefix + "b";
  EXPECT_FALSE(CountOne(*zone, a, 1, 1000, At(0)).throttled);
  EXPECT_FALSE(CountOne(*zone, b, 1, 1000, At(0)).throttled);
  EXPECT_TRUE(CountOne(*zone, a, 1, 1000, At(0)).throttled);
  EXPECT_TRUE(CountOne(*zone, b, 1, 1000, At(0)).throttled);
  EXPECT_EQ(zone->tracked_windows(), 2u);
  ExpectSound(*zone);
}

TEST(RateLimitZoneTest, EvictsLeastRecentlyUsedWindowAtCapacity) {
  const size_t two_windows = 64 + 64 + 2 * RateLimitZone::WindowBytes(4);
  auto zone = MakeZone(two_windows, 4);
  ASSERT_EQ(zone->capacity_windows(), 2u);
  CountOne(*zone, "a", 1, 1000, At(0));
  CountOne(*zone, "b", 1, 1000, At(0));
  CountOne(*zone, "a", 1, 1000, At(1));  // a used last
  CountOne(*zone, "c", 1, 1000, At(2));  // evicts b
  EXPECT_EQ(zone->tracked_windows(), 2u);
  EXPECT_EQ(zone->evicted_windows(), 1u);
  EXPECT_TRUE(CountOne(*zone, "a", 1, 1000, At(3)).throttled);
  EXPECT_FALSE(CountOne(*zone, "b", 1, 1000, At(3)).throttled);
  ExpectSound(*zone);
}

TEST(RateLimitZoneTest, ReclaimsWindowsWhoseRequestsExpired) {
  auto zone = MakeZone();
  for (int i = 0; i < 50; ++i) {
    CountOne(*zone, absl::StrCat("10.", i), 5, 100, At(0));
  }
  EXPECT_EQ(zone->tracked_windows(), 50u);
  for (int i = 0; i < 30; ++i) CountOne(*zone, "fresh", 5, 100, At(1000 + i));
  EXPECT_LE(zone->tracked_windows(), 1u);
  EXPECT_EQ(zone->evicted_windows(), 0u);
  ExpectSound(*zone);
}

TEST(RateLimitZoneTest, LimitsAboveTheHistoryBoundAreLeftToTheCaller) {
  auto zone = MakeZone(size_t{1} << 20, 10);
  ZoneCount count;
  EXPECT_EQ(zone->Count("k", kSecondNs, 11, At(0), &count),
            ZoneOutcome::kUnsupported);
  EXPECT_EQ(zone->Count("k", kSecondNs, 10, At(0), &count),
            ZoneOutcome::kCounted);
}

TEST(RateLimitZoneTest, RejectsSizesThatHoldNoWindows) {
  RateLimitZoneOptions options;
  options.bytes = 100;
  EXPECT_FALSE(RateLimitZone::Create(options).ok());
  options.bytes = size_t{1} << 20;
  options.max_requests_per_window = 0;
  EXPECT_FALSE(RateLimitZone::Create(options).ok());
}

TEST(RateLimitZoneTest, ManyKeysKeepTheInvariants) {
  auto zone = MakeZone(size_t{64} << 10, 8);
  std::mt19937 random(7);
  for (int i = 0; i < 20000; ++i) {
    const std::string key = absl::StrCat("k", random() % 1000);
    CountOne(*zone, key, 1 + random() % 8, 1 + random() % 50, At(i / 10));
  }
  EXPECT_GT(zone->evicted_windows(), 0u);
  ExpectSound(*zone);
}

TEST(RateLimitZoneTest, ConcurrentChecksFromEightThreadsAdmitExactlyMax) {
  auto zone = MakeZone();
  constexpr int kMax = 100;
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        ZoneCount count;
        if (zone->Count("k", 60 * kSecondNs, kMax, At(0), &count) ==
                ZoneOutcome::kCounted &&
            !count.throttled) {
          ++admitted;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(admitted.load(), kMax);
  ExpectSound(*zone);
}

// Garbage in every byte but the lock word: checks still answer, within
// bounds, and a repair restores every invariant.
TEST(RateLimitZoneTest, GarbageIsSurvivedAndRepaired) {
  auto zone = MakeZone(size_t{32} << 10, 8);
  std::mt19937 random(11);
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 20; ++i) {
      CountOne(*zone, absl::StrCat("k", random() % 40), 4, 100, At(round));
    }
    uint8_t* image = zone->image();
    for (int i = 0; i < 64; ++i) {
      const size_t at = 8 + random() % (zone->image_bytes() - 8);
      image[at] = static_cast<uint8_t>(random());
    }
    ZoneCount count;
    const ZoneOutcome outcome =
        zone->Count("probe", kSecondNs, 4, At(round), &count);
    EXPECT_NE(outcome, ZoneOutcome::kUnsupported);
    if (round % 20 == 0) {
      zone->RepairForTesting();
      ExpectSound(*zone);
    }
  }
  zone->RepairForTesting();
  ExpectSound(*zone);
}

}  // namespace
}  // namespace zen
