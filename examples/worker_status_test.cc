#include "examples/worker_status.h"

#include "gtest/gtest.h"

namespace zen::examples {
namespace {

TEST(WorkerStatusTest, RoundTripsThroughJson) {
  WorkerStatus s;
  s.pid = 4242;
  s.requests = 100;
  s.allowed = 90;
  s.blocked = 6;
  s.rate_limited = 4;
  s.unprotected = 1;
  s.config_generation = 2;
  s.firewall_lists_generation = 3;
  s.config_applied_at_us = 1700000000123456;
  s.firewall_lists_applied_at_us = 1700000000654321;
  s.agent_connected = true;
  s.events_recorded = 150;
  s.events_sent = 140;
  s.events_dropped = 0;
  s.flush_failures = 2;
  s.settings_polls = 17;
  s.rate_limit_fallbacks = 1;
  s.rate_limits_from_zone = 7;
  s.rate_limits_zone_deferred = 3;
  for (int us : {40, 41, 45, 90, 3000}) {
    s.rate_limit_latency.Record(absl::Microseconds(us));
  }
  for (int us : {0, 0, 1}) s.zone_latency.Record(absl::Microseconds(us));

  const std::string json = WorkerStatusToJson(s);
  absl::StatusOr<WorkerStatus> parsed = ParseWorkerStatus(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << json;
  EXPECT_EQ(parsed->pid, 4242);
  EXPECT_EQ(parsed->requests, 100u);
  EXPECT_EQ(parsed->allowed, 90u);
  EXPECT_EQ(parsed->blocked, 6u);
  EXPECT_EQ(parsed->rate_limited, 4u);
  EXPECT_EQ(parsed->unprotected, 1u);
  EXPECT_EQ(parsed->config_generation, 2);
  EXPECT_EQ(parsed->firewall_lists_generation, 3);
  EXPECT_EQ(parsed->config_applied_at_us, 1700000000123456);
  EXPECT_EQ(parsed->firewall_lists_applied_at_us, 1700000000654321);
  EXPECT_TRUE(parsed->agent_connected);
  EXPECT_EQ(parsed->events_recorded, 150u);
  EXPECT_EQ(parsed->events_sent, 140u);
  EXPECT_EQ(parsed->events_dropped, 0u);
  EXPECT_EQ(parsed->flush_failures, 2u);
  EXPECT_EQ(parsed->settings_polls, 17u);
  EXPECT_EQ(parsed->rate_limit_fallbacks, 1u);
  EXPECT_EQ(parsed->rate_limit_latency.count(), 5u);
  EXPECT_EQ(parsed->rate_limit_latency.Percentile(0.5),
            s.rate_limit_latency.Percentile(0.5));
  EXPECT_EQ(parsed->rate_limit_latency.Percentile(0.99),
            s.rate_limit_latency.Percentile(0.99));
  EXPECT_EQ(parsed->rate_limits_from_zone, 7u);
  EXPECT_EQ(parsed->rate_limits_zone_deferred, 3u);
  EXPECT_EQ(parsed->zone_latency.count(), 3u);
  EXPECT_EQ(parsed->zone_latency.Percentile(0.99), absl::Microseconds(1));
}

TEST(WorkerStatusTest, FreshStatusRoundTrips) {
  absl::StatusOr<WorkerStatus> parsed =
      ParseWorkerStatus(WorkerStatusToJson(WorkerStatus()));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config_generation, -1);
  EXPECT_EQ(parsed->rate_limit_latency.count(), 0u);
}

TEST(WorkerStatusTest, RejectsMalformedJson) {
  EXPECT_EQ(ParseWorkerStatus("{\"pid\":").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseWorkerStatus("[1,2]").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WorkerStatusTest, NamesAMissingField) {
  std::string json = WorkerStatusToJson(WorkerStatus());
  const size_t at = json.find("\"blocked\"");
  json.replace(at, 9, "\"blocker\"");
  absl::StatusOr<WorkerStatus> parsed = ParseWorkerStatus(json);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("'blocked'"),
            absl::string_view::npos);
}

}  // namespace
}  // namespace zen::examples
