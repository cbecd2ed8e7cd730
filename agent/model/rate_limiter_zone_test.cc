// RateLimiter over a shared-memory zone: what only a zone does (shared
// windows, the paths taken when the zone cannot decide). Every behaviour
// that holds for both backends is in rate_limiter_test.cc.
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/model/rate_limit_zone.h"
#include "agent/model/rate_limiter.h"
#include "agent/model/zone_lock.h"
#include "base/log.h"
#include "gtest/gtest.h"
#include "testing/forked_child.h"
#include "testing/sanitizers.h"

namespace zen {
namespace {

const absl::Time kStart = absl::FromUnixMillis(1700000000000);

absl::Time At(int64_t ms) { return kStart + absl::Milliseconds(ms); }

RuntimeSettings Settings(int max_requests) {
  absl::StatusOr<RuntimeSettings> settings = RuntimeSettings::Parse(
      absl::StrCat(R"({"endpoints": [{"method": "POST", "route": "/login",
          "rateLimiting": {"enabled": true, "maxRequests": )",
                   max_requests, R"(, "windowSizeInMS": 60000}}]})"),
      "");
  EXPECT_TRUE(settings.ok()) << settings.status();
  return settings.ok() ? *std::move(settings) : RuntimeSettings();
}

const RouteKey kLogin{"POST", "/login"};

class RateLimiterZoneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RateLimitZoneOptions options;
    options.bytes = size_t{1} << 20;
    options.max_requests_per_window = 10;
    options.lock_timeout = absl::Milliseconds(20);
    absl::StatusOr<std::unique_ptr<RateLimitZone>> zone =
        RateLimitZone::Create(options);
    ASSERT_TRUE(zone.ok()) << zone.status();
    zone_ = *std::move(zone);
    RateLimiterOptions limiter_options;
    limiter_options.zone = zone_.get();
    // The parent's patience with a busy zone, short here: the lock is held
    // for good in the degraded-mode test.
    limiter_options.zone_busy_wait = absl::Milliseconds(50);
    parent_ = std::make_unique<RateLimiter>(limiter_options);
    worker_ = std::make_unique<RateLimiter>(limiter_options);
  }

  RateLimitPath Decide(RateLimiter& limiter, ZoneFallback fallback,
                       absl::Time now, RateLimitResult* result,
                       int max_requests = 5) {
    return limiter.Decide(kLogin, "203.0.113.9", std::nullopt,
                          Settings(max_requests), now, fallback, result);
  }

  // The zone's lock word, which a live process (here, this one) holds.
  uint64_t* lock_word() { return reinterpret_cast<uint64_t*>(zone_->image()); }

  std::unique_ptr<RateLimitZone> zone_;
  // Two limiters over one zone: as the parent's and a worker's.
  std::unique_ptr<RateLimiter> parent_;
  std::unique_ptr<RateLimiter> worker_;
};

TEST_F(RateLimiterZoneTest, LimitersOverOneZoneCountInTheSameWindows) {
  RateLimitResult result;
  for (int i = 0; i < 5; ++i) {
    RateLimiter& limiter = i % 2 == 0 ? *parent_ : *worker_;
    ASSERT_EQ(Decide(limiter, ZoneFallback::kReport, At(i), &result),
              RateLimitPath::kZone);
    EXPECT_FALSE(result.throttled) << i;
    EXPECT_EQ(result.current_requests, i + 1);
  }
  ASSERT_EQ(Decide(*worker_, ZoneFallback::kReport, At(5), &result),
            RateLimitPath::kZone);
  EXPECT_TRUE(result.throttled);
  EXPECT_EQ(result.time_remaining_ms, 60000 - 5);
  EXPECT_EQ(result.time_remaining_seconds, 60);
  EXPECT_EQ(parent_->tracked_windows(), 1u);
  EXPECT_EQ(worker_->tracked_windows(), 1u);
}

TEST_F(RateLimiterZoneTest, LimitAboveTheZonesWindowsIsReportedOrInProcess) {
  RateLimitResult result;
  result.current_requests = -7;
  // A worker counts nothing and is told to ask the parent.
  EXPECT_EQ(Decide(*worker_, ZoneFallback::kReport, At(0), &result, 11),
            RateLimitPath::kZoneUnsupported);
  EXPECT_EQ(result.max_requests, 11);
  EXPECT_EQ(result.current_requests, -7);
  EXPECT_EQ(worker_->zone_unsupported_checks(), 1u);
  // The parent counts it in its own windows, exactly.
  for (int i = 1; i <= 11; ++i) {
    ASSERT_EQ(Decide(*parent_, ZoneFallback::kInProcess, At(i), &result, 11),
              RateLimitPath::kInProcess);
    EXPECT_FALSE(result.throttled) << i;
    EXPECT_EQ(result.current_requests, i);
  }
  ASSERT_EQ(Decide(*parent_, ZoneFallback::kInProcess, At(12), &result, 11),
            RateLimitPath::kInProcess);
  EXPECT_TRUE(result.throttled);
  EXPECT_EQ(parent_->zone_unsupported_checks(), 12u);
  EXPECT_EQ(zone_->tracked_windows(), 0u);
  // The largest limit a zone window holds is still the zone's.
  EXPECT_EQ(Decide(*worker_, ZoneFallback::kReport, At(13), &result, 10),
            RateLimitPath::kZone);
}

TEST_F(RateLimiterZoneTest, BusyZoneIsReportedOrCountedInProcess) {
  RateLimitResult result;
  ASSERT_EQ(Decide(*parent_, ZoneFallback::kInProcess, At(0), &result),
            RateLimitPath::kZone);
  // A live process holds the lock past the timeout (stopped, or hostile).
  __atomic_store_n(lock_word(), ZoneLockOwnerId(), __ATOMIC_RELEASE);
  EXPECT_EQ(Decide(*worker_, ZoneFallback::kReport, At(1), &result),
            RateLimitPath::kZoneBusy);
  EXPECT_EQ(worker_->zone_busy_checks(), 1u);
  // Degraded mode: the parent counts apart from the zone, from empty, and
  // says so once for the checks that found the zone busy.
  std::vector<std::string> warnings;
  const LogSink previous_sink =
      SetLogSink([&warnings](LogLevel level, absl::string_view message) {
        if (level == LogLevel::kWarning) warnings.emplace_back(message);
      });
  ASSERT_EQ(Decide(*parent_, ZoneFallback::kInProcess, At(2), &result),
            RateLimitPath::kInProcess);
  EXPECT_FALSE(result.throttled);
  EXPECT_EQ(result.current_requests, 1);
  ASSERT_EQ(Decide(*parent_, ZoneFallback::kInProcess, At(3), &result),
            RateLimitPath::kInProcess);
  EXPECT_EQ(result.current_requests, 2);
  SetLogSink(previous_sink);
  EXPECT_EQ(parent_->zone_busy_checks(), 2u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("rate-limit zone busy"), std::string::npos)
      << warnings[0];
  // Free again, but a limiter that found it busy does not try it (no wait
  // of lock_timeout per check) until its retry interval (1 s) has passed;
  // then it finds its window as it was.
  __atomic_store_n(lock_word(), 0, __ATOMIC_RELEASE);
  EXPECT_EQ(Decide(*worker_, ZoneFallback::kReport, At(999), &result),
            RateLimitPath::kZoneBusy);
  ASSERT_EQ(Decide(*worker_, ZoneFallback::kReport, At(1001), &result),
            RateLimitPath::kZone);
  EXPECT_EQ(result.current_requests, 2);
  ASSERT_EQ(Decide(*parent_, ZoneFallback::kInProcess, At(1003), &result),
            RateLimitPath::kZone);
  EXPECT_EQ(result.current_requests, 3);
}

// A holder that lets go late (preempted on a loaded machine, for longer
// than the zone's lock_timeout): a worker hands the question to the parent,
// and the parent, trying the zone for up to zone_busy_wait, still counts in
// the shared window instead of apart from it.
TEST_F(RateLimiterZoneTest, ParentWaitsOutAHolderThatLetsGoLate) {
  RateLimiterOptions options;
  options.zone = zone_.get();
  options.zone_busy_wait = absl::Seconds(30);  // Ends when the lock is free.
  RateLimiter patient_parent(options);
  RateLimitResult result;
  ASSERT_EQ(Decide(*worker_, ZoneFallback::kReport, At(0), &result),
            RateLimitPath::kZone);
  __atomic_store_n(lock_word(), ZoneLockOwnerId(), __ATOMIC_RELEASE);
  ASSERT_EQ(Decide(*worker_, ZoneFallback::kReport, At(1), &result),
            RateLimitPath::kZoneBusy);
  // Let go after several of the zone's lock timeouts (20 ms each).
  std::thread holder([this] {
    absl::SleepFor(absl::Milliseconds(100));
    __atomic_store_n(lock_word(), 0, __ATOMIC_RELEASE);
  });
  const RateLimitPath path =
      Decide(patient_parent, ZoneFallback::kInProcess, At(2), &result);
  holder.join();
  ASSERT_EQ(path, RateLimitPath::kZone);
  EXPECT_EQ(result.current_requests, 2);  // The worker's first, and this.
  EXPECT_EQ(patient_parent.zone_busy_checks(), 0u);  // It never gave up.
}

// In a forked child under seccomp's strict mode, where any system call but
// read, write, exit and sigreturn kills the process: warm decisions in the
// zone (the lock free) run to the end.
TEST_F(RateLimiterZoneTest, WarmZoneDecisionMakesNoSystemCall) {
  if (testing::UnderSanitizer()) {
    GTEST_SKIP() << "a sanitizer's runtime makes system calls of its own";
  }
  const RuntimeSettings settings = Settings(10);
  testing::ChildOutcome outcome = testing::RunInChild([&]() -> absl::Status {
    RateLimitResult result;
    auto decide = [&](int i) {
      return worker_->Decide(kLogin, "2001:db8::7", std::nullopt, settings,
                             At(i), ZoneFallback::kReport, &result);
    };
    // Warm: this process's lock id, the thread's key buffer.
    for (int i = 0; i < 3; ++i) {
      if (decide(i) != RateLimitPath::kZone) {
        return absl::InternalError("not decided in the zone");
      }
    }
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0) {
      return absl::InternalError("seccomp strict mode unavailable");
    }
    int decided = 0;
    for (int i = 3; i < 20; ++i) {
      decided += decide(i) == RateLimitPath::kZone ? 1 : 0;
    }
    // exit_group is not allowed in strict mode; exit is.
    syscall(SYS_exit, decided == 17 && result.throttled ? 0 : 3);
    return absl::InternalError("unreachable");
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
}

TEST(RateLimitPathTest, Names) {
  EXPECT_EQ(RateLimitPathName(RateLimitPath::kNoLimit), "no_limit");
  EXPECT_EQ(RateLimitPathName(RateLimitPath::kZone), "zone");
  EXPECT_EQ(RateLimitPathName(RateLimitPath::kInProcess), "in_process");
  EXPECT_EQ(RateLimitPathName(RateLimitPath::kZoneUnsupported),
            "zone_unsupported");
  EXPECT_EQ(RateLimitPathName(RateLimitPath::kZoneBusy), "zone_busy");
}

TEST(RateLimiterWithoutZoneTest, DecidesInProcessWhateverTheFallback) {
  RateLimiter limiter;
  RateLimitResult result;
  EXPECT_EQ(limiter.Decide(kLogin, "1.2.3.4", std::nullopt, Settings(100000),
                           kStart, ZoneFallback::kReport, &result),
            RateLimitPath::kInProcess);
  EXPECT_EQ(result.current_requests, 1);
}

}  // namespace
}  // namespace zen
