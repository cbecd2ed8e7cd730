#include "agent/model/collector.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "testing/agent/collector_test_events.h"

namespace zen {
namespace {

using testing::Attack;
using testing::Event;
using testing::Keys;
using testing::Outbound;
using testing::User;

CollectorEvent Route(const std::string& method, const std::string& path,
                     int64_t timestamp_ms = 0) {
  CollectorEvent event = Event(CollectorEventType::kRoute);
  event.method = method;
  event.path = path;
  event.timestamp_ms = timestamp_ms;
  return event;
}

// A clock the test moves by hand.
struct FakeClock {
  std::function<absl::Time()> AsFunction() {
    return [this] { return now.load(); };
  }
  std::atomic<absl::Time> now{absl::FromUnixSeconds(1000)};
};

TEST(CollectorTest, CountsRequestsAndRateLimitedRequests) {
  Collector collector;
  collector.Record(Event(CollectorEventType::kRequest));
  collector.Record(Event(CollectorEventType::kRequest));
  collector.Record(Event(CollectorEventType::kRateLimitedRequest));
  CollectorStats stats = collector.Snapshot();
  EXPECT_EQ(stats.requests, 2u);
  EXPECT_EQ(stats.rate_limited_requests, 1u);
}

TEST(CollectorTest, CountsAttacksBySinkAndKindDetectedAndBlocked) {
  Collector collector;
  collector.Record(Attack("pg", "sql_injection", true));
  collector.Record(Attack("pg", "sql_injection", false));
  collector.Record(Attack("fs", "path_traversal", true));
  collector.Record(Attack("", "", false));  // counted in totals only
  CollectorStats stats = collector.Snapshot();
  EXPECT_EQ(stats.attacks_detected, 4u);
  EXPECT_EQ(stats.attacks_blocked, 2u);

  ASSERT_EQ(stats.sinks.size(), 2u);
  EXPECT_EQ(stats.sinks[0].name, "fs");  // most recently seen first
  EXPECT_EQ(stats.sinks[1].name, "pg");
  EXPECT_EQ(stats.sinks[1].attacks_detected, 2u);
  EXPECT_EQ(stats.sinks[1].attacks_blocked, 1u);

  ASSERT_EQ(stats.attacks_by_kind.size(), 2u);
  EXPECT_EQ(stats.attacks_by_kind[1].kind, "sql_injection");
  EXPECT_EQ(stats.attacks_by_kind[1].detected, 2u);
  EXPECT_EQ(stats.attacks_by_kind[1].blocked, 1u);
  EXPECT_EQ(stats.attacks_by_kind[0].kind, "path_traversal");
  EXPECT_EQ(stats.attacks_by_kind[0].blocked, 1u);
}

TEST(CollectorTest, CountsAttackWaves) {
  Collector collector;
  CollectorEvent wave = Event(CollectorEventType::kAttackWave);
  collector.Record(wave);
  wave.blocked = true;
  collector.Record(wave);
  CollectorStats stats = collector.Snapshot();
  EXPECT_EQ(stats.attack_waves_detected, 2u);
  EXPECT_EQ(stats.attack_waves_blocked, 1u);
}

TEST(CollectorTest, SumsScansPerSink) {
  Collector collector;
  CollectorEvent scan = Event(CollectorEventType::kScan);
  scan.sink_name = "mysql";
  scan.duration = absl::Microseconds(30);
  collector.Record(scan);
  scan.has_errors = true;
  scan.duration = absl::Microseconds(12);
  collector.Record(scan);
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.sinks.size(), 1u);
  EXPECT_EQ(stats.sinks[0].name, "mysql");
  EXPECT_EQ(stats.sinks[0].scans, 2u);
  EXPECT_EQ(stats.sinks[0].scans_with_errors, 1u);
  EXPECT_EQ(stats.sinks[0].scan_time, absl::Microseconds(42));
  EXPECT_EQ(stats.sinks[0].attacks_detected, 0u);
}

TEST(CollectorTest, CountsRouteHitsByMethodAndPath) {
  Collector collector;
  collector.Record(Route("GET", "/users/:id", 10));
  collector.Record(Route("GET", "/users/:id", 30));
  collector.Record(Route("GET", "/users/:id", 20));
  collector.Record(Route("POST", "/users/:id", 5));
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.routes.size(), 2u);
  EXPECT_EQ(stats.routes[0].method, "POST");
  EXPECT_EQ(stats.routes[0].hits, 1u);
  EXPECT_EQ(stats.routes[1].method, "GET");
  EXPECT_EQ(stats.routes[1].path, "/users/:id");
  EXPECT_EQ(stats.routes[1].hits, 3u);
  EXPECT_EQ(stats.routes[1].last_seen_ms, 30);
}

TEST(CollectorTest, MergesUserSightingsFromWorkersOutOfOrder) {
  Collector collector;
  collector.Record(User("u1", "Ann", "1.1.1.1", 100, 200));
  collector.Record(User("u1", "Ann B.", "2.2.2.2", 50, 400));
  collector.Record(User("u1", "Old Name", "3.3.3.3", 60, 300));  // stale
  collector.Record(User("u2", "", "", 0, 0));
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.users.size(), 2u);
  const CollectorStats::User& ann = stats.users[1];
  EXPECT_EQ(ann.id, "u1");
  EXPECT_EQ(ann.name, "Ann B.");
  EXPECT_EQ(ann.last_ip_address, "2.2.2.2");
  EXPECT_EQ(ann.first_seen_ms, 50);
  EXPECT_EQ(ann.last_seen_ms, 400);
  EXPECT_EQ(stats.users[0].id, "u2");
}

TEST(CollectorTest, UserTimesFallBackToEventTimestamp) {
  Collector collector;
  CollectorEvent event = User("u1", "Ann", "1.1.1.1", 0, 0);
  event.timestamp_ms = 777;
  collector.Record(event);
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.users.size(), 1u);
  EXPECT_EQ(stats.users[0].first_seen_ms, 777);
  EXPECT_EQ(stats.users[0].last_seen_ms, 777);
}

TEST(CollectorTest, CountsOutboundHostsByHostnameAndPort) {
  Collector collector;
  collector.Record(Outbound("api.example.com", 443));
  collector.Record(Outbound("api.example.com", 443));
  collector.Record(Outbound("api.example.com", 80));
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.hosts.size(), 2u);
  EXPECT_EQ(stats.hosts[0].port, 80);
  EXPECT_EQ(stats.hosts[0].hits, 1u);
  EXPECT_EQ(stats.hosts[1].hostname, "api.example.com");
  EXPECT_EQ(stats.hosts[1].port, 443);
  EXPECT_EQ(stats.hosts[1].hits, 2u);
}

TEST(CollectorTest, CountsUserAgentAndIpListKeys) {
  Collector collector;
  collector.Record(Keys(CollectorEventType::kUserAgent, {"gptbot", "ai"}));
  collector.Record(Keys(CollectorEventType::kUserAgent, {"ai", ""}));
  collector.Record(Keys(CollectorEventType::kIpList, {"tor"}));
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.user_agents.size(), 2u);
  EXPECT_EQ(stats.user_agents[0].key, "ai");
  EXPECT_EQ(stats.user_agents[0].count, 2u);
  EXPECT_EQ(stats.user_agents[1].key, "gptbot");
  EXPECT_EQ(stats.user_agents[1].count, 1u);
  ASSERT_EQ(stats.ip_lists.size(), 1u);
  EXPECT_EQ(stats.ip_lists[0].key, "tor");
  EXPECT_EQ(stats.ip_lists[0].count, 1u);
}

TEST(CollectorTest, CountsEventsMissingRequiredFieldsAsInvalid) {
  Collector collector;
  collector.Record(Route("", "/x"));
  collector.Record(Route("GET", ""));
  collector.Record(User("", "Ann", "1.1.1.1", 1, 1));
  collector.Record(Outbound("", 80));
  collector.Record(Event(CollectorEventType::kScan));  // no sink name
  CollectorStats stats = collector.Snapshot();
  EXPECT_EQ(stats.invalid_events, 5u);
  EXPECT_TRUE(stats.routes.empty());
  EXPECT_TRUE(stats.users.empty());
  EXPECT_TRUE(stats.hosts.empty());
  EXPECT_TRUE(stats.sinks.empty());
}

TEST(CollectorTest, CapDropsLeastRecentlySeenRouteAndCountsIt) {
  CollectorOptions options;
  options.max_routes = 2;
  Collector collector(options);
  collector.Record(Route("GET", "/a"));
  collector.Record(Route("GET", "/b"));
  collector.Record(Route("GET", "/a"));  // /b is now the oldest
  collector.Record(Route("GET", "/c"));
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.routes.size(), 2u);
  EXPECT_EQ(stats.routes[0].path, "/c");
  EXPECT_EQ(stats.routes[1].path, "/a");
  EXPECT_EQ(stats.routes[1].hits, 2u);
  EXPECT_EQ(stats.dropped.routes, 1u);
}

TEST(CollectorTest, EveryCollectionIsCapped) {
  CollectorOptions options;
  options.max_routes = 1;
  options.max_users = 1;
  options.max_hosts = 1;
  options.max_sinks = 1;
  options.max_attack_kinds = 1;
  options.max_user_agents = 1;
  options.max_ip_lists = 1;
  Collector collector(options);
  for (int i = 0; i < 3; ++i) {
    const std::string n = std::to_string(i);
    collector.Record(Route("GET", "/" + n));
    collector.Record(User("u" + n, "", "", 1, 1));
    collector.Record(Outbound("h" + n, 1));
    collector.Record(Attack("sink" + n, "kind" + n, false));
    collector.Record(Keys(CollectorEventType::kUserAgent, {"ua" + n}));
    collector.Record(Keys(CollectorEventType::kIpList, {"list" + n}));
  }
  CollectorStats stats = collector.Snapshot();
  EXPECT_EQ(stats.routes.size(), 1u);
  EXPECT_EQ(stats.users.size(), 1u);
  EXPECT_EQ(stats.hosts.size(), 1u);
  EXPECT_EQ(stats.sinks.size(), 1u);
  EXPECT_EQ(stats.attacks_by_kind.size(), 1u);
  EXPECT_EQ(stats.user_agents.size(), 1u);
  EXPECT_EQ(stats.ip_lists.size(), 1u);
  EXPECT_EQ(stats.dropped.routes, 2u);
  EXPECT_EQ(stats.dropped.users, 2u);
  EXPECT_EQ(stats.dropped.hosts, 2u);
  EXPECT_EQ(stats.dropped.sinks, 2u);
  EXPECT_EQ(stats.dropped.attack_kinds, 2u);
  EXPECT_EQ(stats.dropped.user_agents, 2u);
  EXPECT_EQ(stats.dropped.ip_lists, 2u);
  // Uncapped totals still count everything.
  EXPECT_EQ(stats.attacks_detected, 3u);
  EXPECT_EQ(stats.users[0].id, "u2");
}

TEST(CollectorTest, FlushReturnsThePeriodAndStartsAnEmptyOne) {
  FakeClock clock;
  CollectorOptions options;
  options.clock = clock.AsFunction();
  Collector collector(options);
  collector.Record(Event(CollectorEventType::kRequest));
  collector.Record(Route("GET", "/"));
  clock.now = absl::FromUnixSeconds(1060);

  CollectorStats first = collector.Flush();
  EXPECT_EQ(first.started_at, absl::FromUnixSeconds(1000));
  EXPECT_EQ(first.ended_at, absl::FromUnixSeconds(1060));
  EXPECT_EQ(first.requests, 1u);
  EXPECT_EQ(first.routes.size(), 1u);

  CollectorStats empty = collector.Snapshot();
  EXPECT_EQ(empty.started_at, absl::FromUnixSeconds(1060));
  EXPECT_EQ(empty.requests, 0u);
  EXPECT_TRUE(empty.routes.empty());
  EXPECT_EQ(empty.dropped.routes, 0u);
}

TEST(CollectorTest, SnapshotDoesNotReset) {
  Collector collector;
  collector.Record(Event(CollectorEventType::kRequest));
  EXPECT_EQ(collector.Snapshot().requests, 1u);
  EXPECT_EQ(collector.Snapshot().requests, 1u);
}

TEST(CollectorTest, RecordBatchFoldsEveryEvent) {
  Collector collector;
  std::vector<CollectorEvent> batch = {
      Event(CollectorEventType::kRequest), Route("GET", "/"),
      Attack("pg", "sql_injection", true), Outbound("db", 5432)};
  collector.RecordBatch(batch);
  CollectorStats stats = collector.Snapshot();
  EXPECT_EQ(stats.requests, 1u);
  EXPECT_EQ(stats.routes.size(), 1u);
  EXPECT_EQ(stats.attacks_blocked, 1u);
  EXPECT_EQ(stats.hosts.size(), 1u);
}

CollectorEvent Scan(const std::string& sink, const std::string& kind,
                    absl::Duration duration) {
  CollectorEvent event = Event(CollectorEventType::kScan);
  event.sink_name = sink;
  event.sink_kind = kind;
  event.duration = duration;
  return event;
}

CollectorEvent RouteWithSchema(const std::string& method,
                               const std::string& path,
                               const std::string& schema_json) {
  CollectorEvent event = Route(method, path);
  event.schema_json = schema_json;
  return event;
}

TEST(CollectorTest, SinkKindComesFromTheLatestScanOrAttack) {
  Collector collector;
  collector.Record(Scan("pg", "sql_injection", absl::Milliseconds(1)));
  CollectorEvent attack = Attack("pg", "sql_injection", false);
  attack.sink_kind = "nosql_injection";
  collector.Record(attack);
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.sinks.size(), 1u);
  EXPECT_EQ(stats.sinks[0].kind, "nosql_injection");
}

TEST(CollectorTest, CompressesDistinctTimingsWhenTheSampleIsFull) {
  FakeClock clock;
  CollectorOptions options;
  options.clock = clock.AsFunction();
  options.max_timing_samples = 3;
  options.max_compressed_timings = 2;
  Collector collector(options);
  // 1, 1 (the same duration: sampled once), 2, 4 ms: three samples.
  for (int ms : {1, 1, 2, 4}) {
    collector.Record(Scan("pg", "sql_injection", absl::Milliseconds(ms)));
  }
  clock.now = absl::FromUnixSeconds(1005);
  collector.Record(Scan("pg", "sql_injection", absl::Milliseconds(8)));
  clock.now = absl::FromUnixSeconds(1010);
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.sinks.size(), 1u);
  EXPECT_EQ(stats.sinks[0].scans, 5u);
  const auto& timings = stats.sinks[0].compressed_timings;
  ASSERT_EQ(timings.size(), 2u);
  EXPECT_DOUBLE_EQ(timings[0].mean_seconds, 0.007 / 3);
  EXPECT_EQ(timings[0].compressed_at, absl::FromUnixSeconds(1005));
  // floor(3 * 0.5) = 1, floor(3 * 0.75) = 2, ...: the middle, then the top.
  ASSERT_EQ(timings[0].percentiles_seconds.size(), 5u);
  EXPECT_EQ(timings[0].percentiles_seconds[0],
            (std::pair<int, double>(50, 0.002)));
  EXPECT_EQ(timings[0].percentiles_seconds[1],
            (std::pair<int, double>(75, 0.004)));
  EXPECT_EQ(timings[0].percentiles_seconds[4],
            (std::pair<int, double>(99, 0.004)));
  // The 8 ms still waiting, compressed into the snapshot only.
  EXPECT_DOUBLE_EQ(timings[1].mean_seconds, 0.008);
  EXPECT_EQ(timings[1].compressed_at, absl::FromUnixSeconds(1010));

  // Two more compressions: the oldest of the two kept is dropped.
  for (int ms : {16, 32, 64, 128, 256}) {
    collector.Record(Scan("pg", "sql_injection", absl::Milliseconds(ms)));
  }
  stats = collector.Flush();
  const auto& kept = stats.sinks[0].compressed_timings;
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_DOUBLE_EQ(kept[0].mean_seconds, (0.008 + 0.016 + 0.032) / 3);
  EXPECT_DOUBLE_EQ(kept[1].mean_seconds, (0.064 + 0.128 + 0.256) / 3);
}

TEST(CollectorTest, NonFiniteDurationsCountButAreNotSampled) {
  Collector collector;
  collector.Record(Scan("pg", "sql_injection", absl::InfiniteDuration()));
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.sinks.size(), 1u);
  EXPECT_EQ(stats.sinks[0].scans, 1u);
  EXPECT_TRUE(stats.sinks[0].compressed_timings.empty());
}

TEST(CollectorTest, MergesRouteSchemasUpToTheSampleLimit) {
  CollectorOptions options;
  options.api_schema_max_samples = 3;
  Collector collector(options);
  collector.Record(
      RouteWithSchema("GET", "/a", R"({"query":{"type":"string"}})"));
  collector.Record(Route("GET", "/a"));  // no schema: uses up a sample
  collector.Record(
      RouteWithSchema("GET", "/a", R"({"query":{"type":"oops"}})"));
  collector.Record(
      RouteWithSchema("GET", "/a", R"({"query":{"type":"number"}})"));
  collector.Record(Route("GET", "/b"));
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.routes.size(), 2u);
  const CollectorStats::Route& a = stats.routes[1];
  EXPECT_EQ(a.hits, 4u);
  EXPECT_EQ(a.schema_samples, 3u);
  EXPECT_EQ(a.schema.ToJson(), R"({"query":{"type":"string"}})");
  EXPECT_EQ(stats.invalid_schemas, 1u);
  EXPECT_TRUE(stats.routes[0].schema.empty());
}

TEST(CollectorTest, SchemaPartsBudgetBoundsMergedSchemas) {
  CollectorOptions options;
  // {"query":{"type":"string"}} is two parts (the schema and one
  // definition): two such samples fit, the third does not.
  options.max_schema_parts = 5;
  Collector collector(options);
  const std::string sample = R"({"query":{"type":"string"}})";
  collector.Record(RouteWithSchema("GET", "/a", sample));
  collector.Record(RouteWithSchema("GET", "/b", sample));
  collector.Record(RouteWithSchema("GET", "/c", sample));
  CollectorStats stats = collector.Snapshot();
  EXPECT_EQ(stats.dropped.schema_samples, 1u);
  ASSERT_EQ(stats.routes.size(), 3u);
  EXPECT_TRUE(stats.routes[0].schema.empty());  // /c, most recent
  EXPECT_EQ(stats.routes[0].hits, 1u);
  EXPECT_FALSE(stats.routes[1].schema.empty());
  // A new period has the whole budget again.
  collector.Flush();
  collector.Record(RouteWithSchema("GET", "/c", sample));
  EXPECT_FALSE(collector.Snapshot().routes[0].schema.empty());
}

TEST(CollectorTest, HostnamesAreCaseFolded) {
  Collector collector;
  collector.Record(Outbound("API.Example.COM", 443));
  collector.Record(Outbound("api.example.com", 443));
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.hosts.size(), 1u);
  EXPECT_EQ(stats.hosts[0].hostname, "api.example.com");
  EXPECT_EQ(stats.hosts[0].hits, 2u);
}

TEST(CollectorTest, NewestUserSightingReplacesNameAndAddressEvenWhenEmpty) {
  Collector collector;
  collector.Record(User("u1", "Ann", "1.1.1.1", 100, 200));
  collector.Record(User("u1", "", "", 100, 300));
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.users.size(), 1u);
  EXPECT_EQ(stats.users[0].name, "");
  EXPECT_EQ(stats.users[0].last_ip_address, "");
  EXPECT_EQ(stats.users[0].last_seen_ms, 300);
}

TEST(CollectorTest, FirstSeenOrderFollowsFirstSightings) {
  Collector collector;
  collector.RecordBatch({Route("GET", "/1"), User("u", "", "", 1, 1),
                         Outbound("h", 1), Route("GET", "/2"),
                         Route("GET", "/1"),
                         Scan("pg", "", absl::ZeroDuration())});
  CollectorStats stats = collector.Snapshot();
  ASSERT_EQ(stats.routes.size(), 2u);
  EXPECT_EQ(stats.routes[0].path, "/1");  // most recently seen first
  EXPECT_EQ(stats.routes[0].first_seen_order, 0u);
  EXPECT_EQ(stats.routes[1].first_seen_order, 3u);
  EXPECT_EQ(stats.users[0].first_seen_order, 1u);
  EXPECT_EQ(stats.hosts[0].first_seen_order, 2u);
  EXPECT_EQ(stats.sinks[0].first_seen_order, 4u);
}

TEST(CollectorTest, MiddlewareInstalledOutlivesFlush) {
  Collector collector;
  EXPECT_FALSE(collector.Snapshot().middleware_installed);
  collector.MarkMiddlewareInstalled();
  EXPECT_TRUE(collector.Flush().middleware_installed);
  EXPECT_TRUE(collector.Flush().middleware_installed);
}

TEST(CollectorTest, ConcurrentRecordAndFlushLoseNothing) {
  Collector collector;
  constexpr int kThreads = 8;
  constexpr int kEventsPerThread = 5000;
  std::atomic<bool> done{false};
  uint64_t flushed_requests = 0;
  uint64_t flushed_attacks = 0;
  std::thread flusher([&] {
    while (!done.load()) {
      CollectorStats stats = collector.Flush();
      flushed_requests += stats.requests;
      flushed_attacks += stats.attacks_detected;
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&collector, t] {
      for (int i = 0; i < kEventsPerThread; ++i) {
        collector.Record(Event(CollectorEventType::kRequest));
        if (i % 10 == 0) {
          CollectorEvent route = Route("GET", std::to_string(t));
          route.schema_json = R"({"query":{"type":"string"}})";
          collector.RecordBatch({Attack("pg", "sqli", false), route,
                                 Scan("pg", "sqli", absl::Microseconds(i))});
          if (t == 0) collector.MarkMiddlewareInstalled();
        }
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  done = true;
  flusher.join();
  CollectorStats rest = collector.Flush();
  EXPECT_EQ(flushed_requests + rest.requests,
            uint64_t{kThreads * kEventsPerThread});
  EXPECT_EQ(flushed_attacks + rest.attacks_detected,
            uint64_t{kThreads * kEventsPerThread / 10});
}

}  // namespace
}  // namespace zen
