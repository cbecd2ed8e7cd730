// What a worker's events make the parent keep is bounded in bytes, not
// only in entries: every text an event carries is cut to its
// CollectorTextBounds size (long keys keep a readable start and stay
// distinct), and a heartbeat document stays within its byte budget whatever
// the period holds, leaving out and counting the entries that do not fit.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/model/bounded_key.h"
#include "agent/model/collector.h"
#include "agent/model/heartbeat.h"
#include "gtest/gtest.h"
#include "testing/agent/collector_test_events.h"

namespace zen {
namespace {

using testing::Attack;
using testing::Event;
using testing::Keys;
using testing::Outbound;
using testing::User;

const std::string kHuge(1 << 20, 'x');  // 1 MiB

CollectorEvent Route(const std::string& method, const std::string& path) {
  CollectorEvent event = Event(CollectorEventType::kRoute);
  event.method = method;
  event.path = path;
  return event;
}

TEST(CollectorBoundsTest, LongRoutesKeepAReadableBoundedDistinctPath) {
  Collector collector;
  const std::string a = "/api/" + kHuge + "a";
  const std::string b = "/api/" + kHuge + "b";  // Differs only at the end.
  collector.Record(Route("GET", a));
  collector.Record(Route("GET", b));
  collector.Record(Route("GET", a));
  collector.Record(Route(kHuge, "/short"));
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.routes.size(), 3u);
  for (const CollectorStats::Route& route : stats.routes) {
    EXPECT_LE(route.method.size(), CollectorTextBounds::kMethod);
    EXPECT_LE(route.path.size(), CollectorTextBounds::kRoutePath);
  }
  // Most recently seen first: the long method, then a (seen twice), b.
  EXPECT_EQ(stats.routes[0].path, "/short");
  EXPECT_EQ(stats.routes[1].path,
            BoundedText(a, CollectorTextBounds::kRoutePath));
  EXPECT_EQ(stats.routes[1].path.substr(0, 6), "/api/x");
  EXPECT_EQ(stats.routes[1].hits, 2u);
  EXPECT_NE(stats.routes[1].path, stats.routes[2].path);
}

TEST(CollectorBoundsTest, EveryKeptTextIsBounded) {
  Collector collector;
  collector.Record(User(kHuge, kHuge, kHuge, 1000, 2000));
  collector.Record(Outbound(kHuge, 443));
  collector.Record(Attack(kHuge, kHuge, true));
  collector.Record(Keys(CollectorEventType::kUserAgent, {kHuge}));
  collector.Record(Keys(CollectorEventType::kIpList, {kHuge}));
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.users.size(), 1u);
  EXPECT_LE(stats.users[0].id.size(), CollectorTextBounds::kUserId);
  EXPECT_LE(stats.users[0].name.size(), CollectorTextBounds::kUserName);
  EXPECT_LE(stats.users[0].last_ip_address.size(),
            CollectorTextBounds::kIpAddress);
  ASSERT_EQ(stats.hosts.size(), 1u);
  EXPECT_LE(stats.hosts[0].hostname.size(), CollectorTextBounds::kHostname);
  ASSERT_EQ(stats.sinks.size(), 1u);
  EXPECT_LE(stats.sinks[0].name.size(), CollectorTextBounds::kSinkName);
  EXPECT_LE(stats.sinks[0].kind.size(), CollectorTextBounds::kKind);
  ASSERT_EQ(stats.attacks_by_kind.size(), 1u);
  EXPECT_LE(stats.attacks_by_kind[0].kind.size(), CollectorTextBounds::kKind);
  ASSERT_EQ(stats.user_agents.size(), 1u);
  EXPECT_LE(stats.user_agents[0].key.size(), CollectorTextBounds::kListKey);
  ASSERT_EQ(stats.ip_lists.size(), 1u);
  EXPECT_LE(stats.ip_lists[0].key.size(), CollectorTextBounds::kListKey);
}

TEST(CollectorBoundsTest, ALongHostnameInTwoCasesIsOneHost) {
  Collector collector;
  const std::string lower = "api." + kHuge + ".example.com";
  std::string upper = lower;
  upper[0] = 'A';
  CollectorEvent decoded = Outbound(upper, 443);
  BoundCollectorEventTexts(&decoded);  // As a worker's batch is decoded.
  collector.Record(decoded);
  collector.Record(Outbound(lower, 443));
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.hosts.size(), 1u);
  EXPECT_EQ(stats.hosts[0].hits, 2u);
  EXPECT_EQ(stats.hosts[0].hostname.substr(0, 5), "api.x");
}

TEST(CollectorBoundsTest, SchemaSamplesAreBoundedInBytes) {
  CollectorOptions options;
  options.max_schema_bytes = 200;
  Collector collector(options);
  // One part each, but a long property name: parts alone would let it in.
  for (int i = 0; i < 5; ++i) {
    CollectorEvent event = Route("POST", absl::StrCat("/r", i));
    event.schema_json = absl::StrCat(
        R"({"body":{"type":"json","schema":{"type":"object","properties":{")",
        std::string(60, 'p'), R"(":{"type":"string"}}}}})");
    collector.Record(event);
  }
  CollectorStats stats = collector.Snapshot();
  EXPECT_EQ(stats.invalid_schemas, 0u);
  EXPECT_EQ(stats.dropped.schema_samples, 4u);
}

TEST(CollectorBoundsTest, HeartbeatStaysWithinItsBudgetAndCountsWhatItLeftOut) {
  Collector collector;
  for (int i = 0; i < 5000; ++i) {
    collector.Record(Route("GET", absl::StrCat("/", i, kHuge.substr(0, 600))));
    collector.Record(Outbound(absl::StrCat(i, kHuge.substr(0, 300)), 443));
    if (i < 2000) {
      collector.Record(User(absl::StrCat(i, kHuge.substr(0, 200)),
                            kHuge.substr(0, 300), "192.0.2.1", 1000, 2000));
    }
  }
  const CollectorStats stats = collector.Snapshot();
  HeartbeatOptions options;
  options.max_bytes = 1 << 20;
  uint64_t left_out = 0;
  absl::StatusOr<std::string> json = HeartbeatJson(stats, options, &left_out);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_LE(json->size(), options.max_bytes);
  EXPECT_GT(left_out, 0u);
  // What fits is there, as JSON: the first route, whole.
  EXPECT_NE(json->find(absl::StrCat(R"({"method":"GET","path":"/0)")),
            std::string::npos);
  EXPECT_EQ(json->back(), '}');

  // The default budget holds the whole worst case of these entries.
  uint64_t default_left_out = 0;
  json = HeartbeatJson(stats, HeartbeatOptions(), &default_left_out);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_LE(json->size(), kDefaultHeartbeatMaxBytes);
}

TEST(CollectorBoundsTest, ASmallPeriodLosesNothingToTheBudget) {
  Collector collector;
  collector.Record(Route("GET", "/users/:id"));
  collector.Record(Outbound("api.example.com", 443));
  uint64_t left_out = 0;
  absl::StatusOr<std::string> json =
      HeartbeatJson(collector.Snapshot(), HeartbeatOptions(), &left_out);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(left_out, 0u);
  EXPECT_NE(json->find("/users/:id"), std::string::npos);
  EXPECT_NE(json->find("api.example.com"), std::string::npos);
}

}  // namespace
}  // namespace zen
