#include "agent/model/rate_limiter.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/model/rate_limit_zone.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

const absl::Time kStart = absl::FromUnixMillis(1700000000000);

absl::Time At(int64_t ms) { return kStart + absl::Milliseconds(ms); }

RuntimeSettings Settings(int max_requests, int window_ms,
                         absl::string_view extra_endpoint_json = "",
                         absl::string_view extra_config_json = "",
                         bool enabled = true) {
  const std::string config = absl::StrCat(
      R"({"endpoints": [
            {"method": "POST", "route": "/login",
             "allowedIPAddresses": ["10.0.0.0/8"],
             "rateLimiting": {"enabled": )",
      enabled ? "true" : "false", R"(, "maxRequests": )", max_requests,
      R"(, "windowSizeInMS": )", window_ms, R"(}},
            {"method": "GET", "route": "/open",
             "rateLimiting": {"enabled": false, "maxRequests": 1,
                              "windowSizeInMS": 1000}})",
      extra_endpoint_json, R"(],
          "allowedIPAddresses": ["192.168.1.1"],
          "excludedUserIdsFromRateLimiting": ["ops"])",
      extra_config_json, "}");
  absl::StatusOr<RuntimeSettings> settings = RuntimeSettings::Parse(config, "");
  EXPECT_TRUE(settings.ok()) << settings.status();
  return settings.ok() ? *std::move(settings) : RuntimeSettings();
}

const RouteKey kLogin{"POST", "/login"};

// Every behaviour holds whether the windows are the limiter's own or in a
// shared-memory zone.
enum class Backend { kInProcess, kZone };

// The smallest zone that holds `windows` windows (sizes step by 8 bytes).
std::unique_ptr<RateLimitZone> ZoneHolding(size_t windows) {
  RateLimitZoneOptions options;
  for (options.bytes = windows * RateLimitZone::WindowBytes(
                                     options.max_requests_per_window);
       ; options.bytes += 8) {
    absl::StatusOr<std::unique_ptr<RateLimitZone>> zone =
        RateLimitZone::Create(options);
    if (zone.ok() && (*zone)->capacity_windows() >= windows) {
      EXPECT_EQ((*zone)->capacity_windows(), windows);
      return *std::move(zone);
    }
  }
}

class RateLimiterTest : public ::testing::TestWithParam<Backend> {
 protected:
  // A limiter over the backend under test. With a zone: a zone of its own,
  // of the default size, or holding exactly `options.max_tracked_windows`
  // when the test sets fewer.
  RateLimiter& NewLimiter(RateLimiterOptions options = RateLimiterOptions()) {
    if (GetParam() == Backend::kZone) {
      if (options.max_tracked_windows <
          RateLimiterOptions().max_tracked_windows) {
        zones_.push_back(ZoneHolding(options.max_tracked_windows));
      } else {
        zones_.push_back(*RateLimitZone::Create(RateLimitZoneOptions()));
      }
      options.zone = zones_.back().get();
    }
    limiters_.push_back(std::make_unique<RateLimiter>(options));
    return *limiters_.back();
  }

  std::vector<std::unique_ptr<RateLimitZone>> zones_;
  std::vector<std::unique_ptr<RateLimiter>> limiters_;  // before the zones go
};

INSTANTIATE_TEST_SUITE_P(Backends, RateLimiterTest,
                         ::testing::Values(Backend::kInProcess, Backend::kZone),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kZone ? "Zone"
                                                               : "InProcess";
                         });

TEST_P(RateLimiterTest, DecidesOnTheBackendUnderTest) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(3, 1000);
  RateLimitResult result;
  EXPECT_EQ(limiter.Decide(kLogin, "1.1.1.1", std::nullopt, settings, At(0),
                           ZoneFallback::kReport, &result),
            GetParam() == Backend::kZone ? RateLimitPath::kZone
                                         : RateLimitPath::kInProcess);
  EXPECT_EQ(result.current_requests, 1);
  EXPECT_EQ(limiter.Decide({"GET", "/open"}, "1.1.1.1", std::nullopt, settings,
                           At(0), ZoneFallback::kReport, &result),
            RateLimitPath::kNoLimit);
  EXPECT_EQ(limiter.zone_unsupported_checks(), 0u);
  EXPECT_EQ(limiter.zone_busy_checks(), 0u);
}

TEST_P(RateLimiterTest, AdmitsExactlyMaxRequestsPerWindow) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(3, 1000);
  for (int i = 1; i <= 3; ++i) {
    std::optional<RateLimitResult> result =
        limiter.Check(kLogin, "1.1.1.1", std::nullopt, settings, At(0));
    ASSERT_TRUE(result.has_value());
    EXPECT_FALSE(result->throttled) << i;
    EXPECT_EQ(result->current_requests, i);
    EXPECT_EQ(result->max_requests, 3);
  }
  std::optional<RateLimitResult> fourth =
      limiter.Check(kLogin, "1.1.1.1", std::nullopt, settings, At(0));
  ASSERT_TRUE(fourth.has_value());
  EXPECT_TRUE(fourth->throttled);
  EXPECT_EQ(fourth->current_requests, 3);
  EXPECT_EQ(fourth->time_remaining_ms, 1000);
  EXPECT_EQ(fourth->time_remaining_seconds, 1);
  EXPECT_EQ(fourth->discriminator_kind, RateLimitDiscriminator::kIp);
  EXPECT_EQ(fourth->discriminator, "1.1.1.1");
}

TEST_P(RateLimiterTest, SlotFreesExactlyWhenTheWindowHasPassed) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(1, 1000);
  EXPECT_FALSE(limiter.Check(kLogin, "1.1.1.1", std::nullopt, settings, At(0))
                   ->throttled);
  std::optional<RateLimitResult> early =
      limiter.Check(kLogin, "1.1.1.1", std::nullopt, settings, At(999));
  EXPECT_TRUE(early->throttled);
  EXPECT_EQ(early->time_remaining_ms, 1);
  EXPECT_EQ(early->time_remaining_seconds, 1);  // Rounded up.
  std::optional<RateLimitResult> on_time =
      limiter.Check(kLogin, "1.1.1.1", std::nullopt, settings, At(1000));
  EXPECT_FALSE(on_time->throttled);
  EXPECT_EQ(on_time->current_requests, 1);
}

TEST_P(RateLimiterTest, WindowSlidesInsteadOfResetting) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(3, 1000);
  for (int ms : {0, 500, 900}) {
    EXPECT_FALSE(
        limiter.Check(kLogin, "ip", std::nullopt, settings, At(ms))->throttled);
  }
  // The request at 0 has left the window; 500 and 900 still count.
  std::optional<RateLimitResult> at_1000 =
      limiter.Check(kLogin, "ip", std::nullopt, settings, At(1000));
  EXPECT_FALSE(at_1000->throttled);
  EXPECT_EQ(at_1000->current_requests, 3);
  std::optional<RateLimitResult> at_1100 =
      limiter.Check(kLogin, "ip", std::nullopt, settings, At(1100));
  EXPECT_TRUE(at_1100->throttled);
  EXPECT_EQ(at_1100->time_remaining_ms, 400);  // until 500 + 1000
}

TEST_P(RateLimiterTest, AnyWindowHoldsAtMostMaxRequests) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(5, 100);
  std::vector<int64_t> admitted;
  for (int64_t ms = 0; ms < 1000; ms += 7) {
    if (!limiter.Check(kLogin, "ip", std::nullopt, settings, At(ms))
             ->throttled) {
      admitted.push_back(ms);
    }
  }
  for (size_t i = 0; i + 5 < admitted.size(); ++i) {
    EXPECT_GE(admitted[i + 5] - admitted[i], 100) << i;
  }
  EXPECT_GE(admitted.size(), 45u);  // about 5 per 100 ms over 1 s
}

TEST_P(RateLimiterTest, ThrottledRequestsAreNotCounted) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(2, 1000);
  limiter.Check(kLogin, "ip", std::nullopt, settings, At(0));
  limiter.Check(kLogin, "ip", std::nullopt, settings, At(10));
  for (int ms = 20; ms < 1000; ms += 10) {
    EXPECT_TRUE(
        limiter.Check(kLogin, "ip", std::nullopt, settings, At(ms))->throttled);
  }
  EXPECT_FALSE(
      limiter.Check(kLogin, "ip", std::nullopt, settings, At(1000))->throttled);
  EXPECT_FALSE(
      limiter.Check(kLogin, "ip", std::nullopt, settings, At(1010))->throttled);
}

TEST_P(RateLimiterTest, TimeRemainingRoundsUpToWholeMilliseconds) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(1, 1000);
  limiter.Check(kLogin, "ip", std::nullopt, settings, kStart);
  std::optional<RateLimitResult> result =
      limiter.Check(kLogin, "ip", std::nullopt, settings,
                    kStart + absl::Microseconds(999500));
  EXPECT_TRUE(result->throttled);
  EXPECT_EQ(result->time_remaining_ms, 1);
}

TEST_P(RateLimiterTest, KeepsSeparateWindowsPerClientIp) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(1, 1000);
  EXPECT_FALSE(limiter.Check(kLogin, "1.1.1.1", std::nullopt, settings, At(0))
                   ->throttled);
  EXPECT_FALSE(limiter.Check(kLogin, "2.2.2.2", std::nullopt, settings, At(0))
                   ->throttled);
  EXPECT_TRUE(limiter.Check(kLogin, "1.1.1.1", std::nullopt, settings, At(1))
                  ->throttled);
}

TEST_P(RateLimiterTest, ActorIdTakesPrecedenceOverIp) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(1, 1000);
  std::optional<RateLimitResult> first =
      limiter.Check(kLogin, "1.1.1.1", "alice", settings, At(0));
  EXPECT_FALSE(first->throttled);
  EXPECT_EQ(first->discriminator_kind, RateLimitDiscriminator::kUser);
  EXPECT_EQ(first->discriminator, "actor:alice");
  EXPECT_EQ(RateLimitDiscriminatorName(first->discriminator_kind), "user");
  // Same user from another address: same window.
  EXPECT_TRUE(
      limiter.Check(kLogin, "2.2.2.2", "alice", settings, At(1))->throttled);
  // Same address without the user: the IP's own window.
  EXPECT_FALSE(limiter.Check(kLogin, "1.1.1.1", std::nullopt, settings, At(2))
                   ->throttled);
}

TEST_P(RateLimiterTest, UserAndIpWithTheSameTextAreDifferentWindows) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(1, 1000);
  EXPECT_FALSE(
      limiter.Check(kLogin, "x", std::nullopt, settings, At(0))->throttled);
  EXPECT_FALSE(limiter.Check(kLogin, "y", "x", settings, At(0))->throttled);
}

TEST_P(RateLimiterTest, EmptyActorIdCountsAsNoActor) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(1, 1000);
  std::optional<RateLimitResult> result =
      limiter.Check(kLogin, "1.1.1.1", "", settings, At(0));
  EXPECT_EQ(result->discriminator_kind, RateLimitDiscriminator::kIp);
  EXPECT_EQ(result->discriminator, "1.1.1.1");
}

TEST_P(RateLimiterTest, SpellingsOfOneIpShareAWindow) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(2, 1000);
  EXPECT_FALSE(
      limiter.Check(kLogin, "::ffff:1.2.3.4", std::nullopt, settings, At(0))
          ->throttled);
  EXPECT_FALSE(limiter.Check(kLogin, "1.2.3.4", std::nullopt, settings, At(1))
                   ->throttled);
  std::optional<RateLimitResult> third =
      limiter.Check(kLogin, "::FFFF:1.2.3.4", std::nullopt, settings, At(2));
  EXPECT_TRUE(third->throttled);
  EXPECT_EQ(third->discriminator, "::FFFF:1.2.3.4");  // As given.
  EXPECT_FALSE(
      limiter.Check(kLogin, "2001:DB8::1", std::nullopt, settings, At(3))
          ->throttled);
  EXPECT_FALSE(
      limiter
          .Check(kLogin, "2001:db8:0:0:0:0:0:1", std::nullopt, settings, At(4))
          ->throttled);
  EXPECT_TRUE(
      limiter.Check(kLogin, "2001:0db8::0:1", std::nullopt, settings, At(5))
          ->throttled);
  EXPECT_EQ(limiter.tracked_windows(), 2u);
}

TEST_P(RateLimiterTest, LongActorIdsAndJunkIpsKeepWindowsOfTheirOwn) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(1, 1000);
  const std::string a(500, 'a');
  const std::string b = a + "b";  // Same bounded prefix, other digest.
  EXPECT_FALSE(limiter.Check(kLogin, "1.1.1.1", a, settings, At(0))->throttled);
  EXPECT_FALSE(limiter.Check(kLogin, "1.1.1.1", b, settings, At(0))->throttled);
  EXPECT_TRUE(limiter.Check(kLogin, "2.2.2.2", a, settings, At(1))->throttled);
  EXPECT_EQ(limiter.Check(kLogin, "1.1.1.1", b, settings, At(1))->discriminator,
            "actor:" + b);
  const std::string junk(300, 'j');
  EXPECT_FALSE(
      limiter.Check(kLogin, junk, std::nullopt, settings, At(2))->throttled);
  EXPECT_FALSE(limiter.Check(kLogin, junk + "k", std::nullopt, settings, At(2))
                   ->throttled);
  EXPECT_TRUE(
      limiter.Check(kLogin, junk, std::nullopt, settings, At(3))->throttled);
}

TEST_P(RateLimiterTest, DecideCountsAsCheckButLeavesTheDiscriminator) {
  RateLimiter& by_check = NewLimiter();
  RateLimiter& by_decide = NewLimiter();
  RuntimeSettings settings = Settings(3, 1000);
  for (int i = 0; i < 6; ++i) {
    const std::optional<absl::string_view> actor =
        i % 2 == 0 ? std::nullopt : std::optional<absl::string_view>("bob");
    std::optional<RateLimitResult> expected =
        by_check.Check(kLogin, "5.6.7.8", actor, settings, At(100 * i));
    RateLimitResult result;
    result.discriminator = "untouched";
    ASSERT_NE(by_decide.Decide(RouteView("POST", "/login"), "5.6.7.8", actor,
                               settings, At(100 * i), ZoneFallback::kInProcess,
                               &result),
              RateLimitPath::kNoLimit);
    EXPECT_EQ(result.discriminator, "untouched");
    EXPECT_EQ(result.throttled, expected->throttled) << i;
    EXPECT_EQ(result.discriminator_kind, expected->discriminator_kind) << i;
    EXPECT_EQ(result.current_requests, expected->current_requests) << i;
    EXPECT_EQ(result.max_requests, expected->max_requests) << i;
    EXPECT_EQ(result.time_remaining_ms, expected->time_remaining_ms) << i;
    EXPECT_EQ(result.time_remaining_seconds, expected->time_remaining_seconds)
        << i;
  }
  RateLimitResult unused;
  EXPECT_EQ(
      by_decide.Decide(RouteView("GET", "/open"), "5.6.7.8", std::nullopt,
                       settings, At(0), ZoneFallback::kInProcess, &unused),
      RateLimitPath::kNoLimit);
}

TEST(RateLimitDiscriminatorTest, IsTheActorElseTheIpAsGiven) {
  std::string out = "previous, longer than the inline capacity";
  AssignRateLimitDiscriminator("::FFFF:1.2.3.4", std::nullopt, &out);
  EXPECT_EQ(out, "::FFFF:1.2.3.4");
  AssignRateLimitDiscriminator("1.2.3.4", "alice", &out);
  EXPECT_EQ(out, "actor:alice");
  AssignRateLimitDiscriminator("1.2.3.4", "", &out);
  EXPECT_EQ(out, "1.2.3.4");
}

TEST_P(RateLimiterTest, ExcludedUsersAreNotLimited) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(1, 1000);
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(
        limiter.Check(kLogin, "1.1.1.1", "ops", settings, At(i)).has_value());
  }
}

TEST_P(RateLimiterTest, GloballyAllowedIpsAreNotLimited) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(1, 1000);
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(
        limiter.Check(kLogin, "192.168.1.1", std::nullopt, settings, At(i))
            .has_value());
    EXPECT_FALSE(
        limiter.Check(kLogin, "::ffff:192.168.1.1", "alice", settings, At(i))
            .has_value());
  }
}

TEST_P(RateLimiterTest, EndpointAllowedIpsAreLimitedLikeOthers) {
  // An endpoint's allowedIPAddresses say who may use it; the reference
  // counts their requests against its limit like anyone's.
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(1, 1000);
  EXPECT_FALSE(limiter.Check(kLogin, "10.9.8.7", std::nullopt, settings, At(0))
                   ->throttled);
  EXPECT_TRUE(limiter.Check(kLogin, "10.9.8.7", std::nullopt, settings, At(1))
                  ->throttled);
}

TEST_P(RateLimiterTest, NoLimitWithoutEnabledMatchingEndpoint) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(1, 1000);
  EXPECT_FALSE(
      limiter.Check({"GET", "/open"}, "1.1.1.1", std::nullopt, settings, At(0))
          .has_value());
  EXPECT_FALSE(
      limiter.Check({"GET", "/login"}, "1.1.1.1", std::nullopt, settings, At(0))
          .has_value());
  EXPECT_FALSE(
      limiter.Check({"POST", "/nope"}, "1.1.1.1", std::nullopt, settings, At(0))
          .has_value());
  EXPECT_FALSE(
      limiter.Check(kLogin, "1.1.1.1", std::nullopt, RuntimeSettings(), At(0))
          .has_value());
}

TEST_P(RateLimiterTest, WildcardMethodEndpointSharesOneWindowAcrossMethods) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings =
      Settings(1, 1000, R"(, {"method": "*", "route": "/any",
                    "rateLimiting": {"enabled": true, "maxRequests": 2,
                                     "windowSizeInMS": 1000}})");
  EXPECT_FALSE(
      limiter.Check({"GET", "/any"}, "ip", std::nullopt, settings, At(0))
          ->throttled);
  EXPECT_FALSE(
      limiter.Check({"POST", "/any"}, "ip", std::nullopt, settings, At(0))
          ->throttled);
  EXPECT_TRUE(
      limiter.Check({"PUT", "/any"}, "ip", std::nullopt, settings, At(0))
          ->throttled);
}

TEST_P(RateLimiterTest, WildcardEndpointLimitsEveryRouteItMatches) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings =
      Settings(1, 1000, R"(, {"method": "*", "route": "/api/wild/*",
                    "rateLimiting": {"enabled": true, "maxRequests": 2,
                                     "windowSizeInMS": 10000}})");
  std::optional<RateLimitResult> first =
      limiter.Check({"GET", "/api/wild/anything"}, "203.0.113.7", std::nullopt,
                    settings, At(0));
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->throttled);
  EXPECT_EQ(first->current_requests, 1);
  EXPECT_EQ(first->max_requests, 2);
  EXPECT_EQ(first->time_remaining_seconds, 10);
  // One window for the pattern: other routes and methods it matches count.
  EXPECT_FALSE(limiter
                   .Check({"post", "/API/wild/x/y/"}, "203.0.113.7",
                          std::nullopt, settings, At(1))
                   ->throttled);
  EXPECT_TRUE(limiter
                  .Check({"GET", "/api/wild/other"}, "203.0.113.7",
                         std::nullopt, settings, At(2))
                  ->throttled);
  EXPECT_FALSE(limiter
                   .Check({"GET", "/api/wild"}, "203.0.113.7", std::nullopt,
                          settings, At(3))
                   .has_value());
}

TEST_P(RateLimiterTest, NewLimitsStartFreshWindows) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings generous = Settings(10, 1000);
  for (int i = 0; i < 3; ++i) {
    limiter.Check(kLogin, "ip", std::nullopt, generous, At(0));
  }
  // A new maxRequests: the endpoint's clients start from empty windows, as
  // the reference's fresh bucket.
  RuntimeSettings strict = Settings(2, 1000);
  std::optional<RateLimitResult> result =
      limiter.Check(kLogin, "ip", std::nullopt, strict, At(1));
  EXPECT_FALSE(result->throttled);
  EXPECT_EQ(result->current_requests, 1);
  EXPECT_EQ(result->max_requests, 2);
  // A new window length likewise.
  RuntimeSettings longer = Settings(2, 2000);
  EXPECT_EQ(limiter.Check(kLogin, "ip", std::nullopt, longer, At(2))
                ->current_requests,
            1);
  // Other changes to the document keep the windows.
  RuntimeSettings same_limits =
      Settings(2, 2000, "", R"(, "blockedUserIds": ["x"])");
  EXPECT_EQ(limiter.Check(kLogin, "ip", std::nullopt, same_limits, At(3))
                ->current_requests,
            2);
  // Limits changed back find the windows they had, where these still hold
  // requests (documented in docs/protocol.md).
  EXPECT_EQ(limiter.Check(kLogin, "ip", std::nullopt, strict, At(4))
                ->current_requests,
            2);
}

TEST_P(RateLimiterTest, DisablingAndEnablingWithTheSameLimitsKeepsWindows) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings enabled = Settings(2, 1000);
  limiter.Check(kLogin, "ip", std::nullopt, enabled, At(0));
  RuntimeSettings disabled = Settings(2, 1000, "", "", /*enabled=*/false);
  EXPECT_FALSE(
      limiter.Check(kLogin, "ip", std::nullopt, disabled, At(1)).has_value());
  EXPECT_EQ(limiter.Check(kLogin, "ip", std::nullopt, enabled, At(2))
                ->current_requests,
            2);
}

TEST_P(RateLimiterTest, ZeroMaxRequestsThrottlesEverything) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(0, 1000);
  std::optional<RateLimitResult> result =
      limiter.Check(kLogin, "ip", std::nullopt, settings, At(0));
  EXPECT_TRUE(result->throttled);
  EXPECT_EQ(result->current_requests, 0);
  EXPECT_EQ(result->time_remaining_ms, 1000);
}

TEST_P(RateLimiterTest, EvictsLeastRecentlyUsedWindowAtCapacity) {
  RateLimiterOptions options;
  options.max_tracked_windows = 2;
  RateLimiter& limiter = NewLimiter(options);
  RuntimeSettings settings = Settings(1, 1000);
  limiter.Check(kLogin, "a", std::nullopt, settings, At(0));
  limiter.Check(kLogin, "b", std::nullopt, settings, At(0));
  limiter.Check(kLogin, "a", std::nullopt, settings, At(1));  // a used last
  limiter.Check(kLogin, "c", std::nullopt, settings, At(2));  // evicts b
  EXPECT_EQ(limiter.tracked_windows(), 2u);
  EXPECT_EQ(limiter.evicted_windows(), 1u);
  // a's window survived; b's history is gone.
  EXPECT_TRUE(
      limiter.Check(kLogin, "a", std::nullopt, settings, At(3))->throttled);
  EXPECT_FALSE(
      limiter.Check(kLogin, "b", std::nullopt, settings, At(3))->throttled);
}

TEST_P(RateLimiterTest, ReclaimsWindowsWhoseRequestsExpired) {
  RateLimiter& limiter = NewLimiter();
  RuntimeSettings settings = Settings(5, 100);
  for (int i = 0; i < 50; ++i) {
    limiter.Check(kLogin, absl::StrCat("10.", i), std::nullopt, settings,
                  At(0));
  }
  EXPECT_EQ(limiter.tracked_windows(), 50u);
  // Long after: every check reclaims expired windows from the LRU tail.
  for (int i = 0; i < 30; ++i) {
    limiter.Check(kLogin, "fresh", std::nullopt, settings, At(1000 + i));
  }
  EXPECT_LE(limiter.tracked_windows(), 1u);
  EXPECT_EQ(limiter.evicted_windows(), 0u);
}

TEST_P(RateLimiterTest, ConcurrentChecksFromEightThreadsAdmitExactlyMax) {
  RateLimiter& limiter = NewLimiter();
  constexpr int kMax = 100;
  RuntimeSettings settings = Settings(kMax, 60000);
  std::atomic<int> admitted{0};
  std::atomic<int> throttled{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::optional<RateLimitResult> result = limiter.Check(
            kLogin, "9.9.9.9", std::nullopt, settings, At(t * 3 + i % 5));
        if (result->throttled) {
          ++throttled;
        } else {
          ++admitted;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(admitted.load(), kMax);
  EXPECT_EQ(throttled.load(), 8 * 200 - kMax);
}

}  // namespace
}  // namespace zen
