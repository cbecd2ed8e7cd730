#include "agent/model/attack_wave_detector.h"

#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/thread_group.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

AttackWaveOptions Threshold(size_t n) {
  AttackWaveOptions options;
  options.threshold = n;
  return options;
}

TEST(AttackWaveDetectorTest, ReturnsTheSamplesOnceWhenTheThresholdIsReached) {
  AttackWaveDetector detector(Threshold(3));
  EXPECT_FALSE(detector.Record("1.2.3.4", "GET", "/.env", kT0));
  EXPECT_FALSE(detector.Record("1.2.3.4", "GET", "/.git", kT0));
  auto wave = detector.Record("1.2.3.4", "POST", "/wp-admin", kT0);
  ASSERT_TRUE(wave);
  ASSERT_EQ(wave->size(), 3u);
  EXPECT_EQ((*wave)[0].method, "GET");
  EXPECT_EQ((*wave)[0].url, "/.env");
  EXPECT_EQ((*wave)[2].method, "POST");
  // Flagged: neither counted nor answered during the cooldown.
  EXPECT_FALSE(
      detector.Record("1.2.3.4", "GET", "/x", kT0 + absl::Minutes(19)));
}

TEST(AttackWaveDetectorTest, CountsEveryRequestButKeepsDistinctSamples) {
  AttackWaveDetector detector(Threshold(3));
  EXPECT_FALSE(detector.Record("ip", "GET", "/.env", kT0));
  EXPECT_FALSE(detector.Record("ip", "GET", "/.env", kT0));
  auto wave = detector.Record("ip", "GET", "/.env", kT0);
  ASSERT_TRUE(wave);
  EXPECT_EQ(wave->size(), 1u);
}

TEST(AttackWaveDetectorTest, KeepsAtMostMaxSamplesDroppingTheOldest) {
  AttackWaveOptions options = Threshold(20);
  options.max_samples = 15;
  AttackWaveDetector detector(options);
  std::optional<std::vector<AttackWaveSample>> wave;
  for (int i = 0; i < 20; ++i) {
    wave = detector.Record("ip", "GET", absl::StrCat("/", i), kT0);
  }
  ASSERT_TRUE(wave);
  ASSERT_EQ(wave->size(), 15u);
  EXPECT_EQ(wave->front().url, "/5");
  EXPECT_EQ(wave->back().url, "/19");
}

TEST(AttackWaveDetectorTest, ForgetsTheCountAfterAMinuteWithoutRequests) {
  AttackWaveDetector detector(Threshold(3));
  EXPECT_FALSE(detector.Record("ip", "GET", "/a", kT0));
  // 59 s after the last request: still counted (each request renews it).
  EXPECT_FALSE(detector.Record("ip", "GET", "/b", kT0 + absl::Seconds(59)));
  // A minute after the last one: forgotten, this is the first again.
  const absl::Time later = kT0 + absl::Seconds(59) + absl::Minutes(1);
  EXPECT_FALSE(detector.Record("ip", "GET", "/c", later));
  EXPECT_FALSE(detector.Record("ip", "GET", "/d", later));
  auto wave = detector.Record("ip", "GET", "/e", later);
  ASSERT_TRUE(wave);
  ASSERT_EQ(wave->size(), 3u);
  EXPECT_EQ(wave->front().url, "/c");
}

TEST(AttackWaveDetectorTest, CanFlagAgainAfterTheCooldown) {
  AttackWaveDetector detector(Threshold(2));
  EXPECT_FALSE(detector.Record("ip", "GET", "/a", kT0));
  EXPECT_TRUE(detector.Record("ip", "GET", "/b", kT0));
  const absl::Time after = kT0 + absl::Minutes(20);
  EXPECT_FALSE(detector.Record("ip", "GET", "/c", after));  // Counted anew.
  auto again = detector.Record("ip", "GET", "/d", after);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->size(), 2u);
}

TEST(AttackWaveDetectorTest, TracksIpsApart) {
  AttackWaveDetector detector(Threshold(2));
  EXPECT_FALSE(detector.Record("a", "GET", "/x", kT0));
  EXPECT_FALSE(detector.Record("b", "GET", "/x", kT0));
  EXPECT_TRUE(detector.Record("a", "GET", "/y", kT0));
  EXPECT_TRUE(detector.Record("b", "GET", "/y", kT0));
}

TEST(AttackWaveDetectorTest, ForgetsTheLeastRecentlySeenIpWhenFull) {
  AttackWaveOptions options = Threshold(2);
  options.max_tracked_ips = 2;
  AttackWaveDetector detector(options);
  EXPECT_FALSE(detector.Record("a", "GET", "/x", kT0));
  EXPECT_FALSE(detector.Record("b", "GET", "/x", kT0));
  EXPECT_FALSE(detector.Record("c", "GET", "/x", kT0));  // Evicts "a".
  EXPECT_EQ(detector.tracked_ips(), 2u);
  EXPECT_FALSE(detector.Record("a", "GET", "/y", kT0));  // A fresh count.
  EXPECT_TRUE(detector.Record("c", "GET", "/y", kT0));
}

TEST(AttackWaveDetectorTest, AConcurrentBurstCrossesTheThresholdOnce) {
  AttackWaveDetector detector(Threshold(50));
  std::atomic<int> waves{0};
  ThreadGroup threads;
  for (int t = 0; t < 8; ++t) {
    threads.Spawn([&, t] {
      for (int i = 0; i < 100; ++i) {
        if (detector.Record("ip", "GET", absl::StrCat("/", t, "/", i), kT0)) {
          waves.fetch_add(1);
        }
      }
    });
  }
  threads.JoinAll();
  EXPECT_EQ(waves.load(), 1);
}

}  // namespace
}  // namespace zen
