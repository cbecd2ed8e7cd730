#include "agent/model/heartbeat.h"

#include <simdjson.h>

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "agent/model/json_fields.h"
#include "gtest/gtest.h"
#include "testing/agent/collector_test_events.h"

namespace zen {
namespace {

using testing::Attack;
using testing::Event;
using testing::Keys;
using testing::Outbound;
using testing::Scan;
using testing::User;
using testing::Wave;

using simdjson::dom::element;
using simdjson::dom::element_type;

// --- Comparing two JSON documents key by key. ---

// Appends to `*diffs` one line per difference between `actual` and
// `expected` under `path`: a missing, extra or repeated key, a value of
// another type or another value. Arrays compare in order, objects in any
// order (JSON gives object order no meaning), numbers by value.
void Compare(element actual, element expected, const std::string& path,
             std::vector<std::string>* diffs) {
  auto is_number = [](element_type t) {
    return t == element_type::INT64 || t == element_type::UINT64 ||
           t == element_type::DOUBLE;
  };
  if (is_number(actual.type()) && is_number(expected.type())) {
    // Integers compare exactly; the values here are far below 2^53, and a
    // timing written 125.0 must equal one expected as 125.
    const double a = double(actual);
    const double e = double(expected);
    if (a != e) {
      diffs->push_back(absl::StrCat(path, ": ", simdjson::to_string(actual),
                                    " != expected ",
                                    simdjson::to_string(expected)));
    }
    return;
  }
  if (actual.type() != expected.type()) {
    diffs->push_back(absl::StrCat(path, ": ", simdjson::to_string(actual),
                                  " is not of the type of expected ",
                                  simdjson::to_string(expected)));
    return;
  }
  switch (actual.type()) {
    case element_type::OBJECT: {
      std::map<std::string, element> a, e;
      for (auto member : simdjson::dom::object(actual)) {
        if (!a.emplace(std::string(member.key), member.value).second) {
          diffs->push_back(absl::StrCat(path, ": repeated key \"",
                                        std::string(member.key), "\""));
        }
      }
      for (auto member : simdjson::dom::object(expected)) {
        e.emplace(std::string(member.key), member.value);
      }
      for (const auto& [key, value] : e) {
        auto it = a.find(key);
        if (it == a.end()) {
          diffs->push_back(absl::StrCat(path, ": missing key \"", key, "\""));
        } else {
          Compare(it->second, value, absl::StrCat(path, ".", key), diffs);
        }
      }
      for (const auto& [key, value] : a) {
        if (!e.count(key)) {
          diffs->push_back(absl::StrCat(path, ": unexpected key \"", key,
                                        "\" = ", simdjson::to_string(value)));
        }
      }
      return;
    }
    case element_type::ARRAY: {
      std::vector<element> a, e;
      for (element item : simdjson::dom::array(actual)) a.push_back(item);
      for (element item : simdjson::dom::array(expected)) e.push_back(item);
      if (a.size() != e.size()) {
        diffs->push_back(absl::StrCat(path, ": ", a.size(),
                                      " elements, expected ", e.size(), ": ",
                                      simdjson::to_string(actual)));
        return;
      }
      for (size_t i = 0; i < a.size(); ++i) {
        Compare(a[i], e[i], absl::StrCat(path, "[", i, "]"), diffs);
      }
      return;
    }
    default:
      if (simdjson::to_string(actual) != simdjson::to_string(expected)) {
        diffs->push_back(absl::StrCat(path, ": ", simdjson::to_string(actual),
                                      " != expected ",
                                      simdjson::to_string(expected)));
      }
  }
}

// The differences between two JSON texts; a parse failure is one too.
std::vector<std::string> JsonDiff(const std::string& actual,
                                  const std::string& expected) {
  simdjson::dom::parser actual_parser, expected_parser;
  absl::StatusOr<element> a =
      json_fields::ParseDocument(&actual_parser, actual, "actual", 1 << 20);
  absl::StatusOr<element> e = json_fields::ParseDocument(
      &expected_parser, expected, "expected", 1 << 20);
  if (!a.ok()) return {a.status().ToString()};
  if (!e.ok()) return {e.status().ToString()};
  std::vector<std::string> diffs;
  Compare(*a, *e, "$", &diffs);
  return diffs;
}

// --- Building the events. ---

struct FakeClock {
  std::function<absl::Time()> AsFunction() {
    return [this] { return now.load(); };
  }
  std::atomic<absl::Time> now{absl::UnixEpoch()};
};

absl::Time At(double unix_seconds) {
  return absl::UnixEpoch() + absl::Seconds(unix_seconds);
}

CollectorEvent Route(const std::string& method, const std::string& path,
                     const std::string& schema_json = "") {
  CollectorEvent event = Event(CollectorEventType::kRoute);
  event.method = method;
  event.path = path;
  event.schema_json = schema_json;
  return event;
}

// Every one of the ten event types, with fixed times; the expected document
// below follows from the reference's code (aikido-zen 1.8.0), file by file.
TEST(HeartbeatTest, GoldenDocumentFromEveryEventType) {
  FakeClock clock;
  clock.now = At(1700000000.75);
  CollectorOptions options;
  options.clock = clock.AsFunction();
  options.max_timing_samples = 4;  // the reference's max_performance_samples
  options.api_schema_max_samples = 2;  // the reference's api_schema_max_samples
  Collector collector(options);

  collector.RecordBatch({
      Event(CollectorEventType::kRequest),
      Event(CollectorEventType::kRequest),
      Event(CollectorEventType::kRequest),
      Event(CollectorEventType::kRateLimitedRequest),
      Keys(CollectorEventType::kUserAgent, {"googlebot", "ahrefs"}),
      Keys(CollectorEventType::kUserAgent, {"googlebot"}),
      Keys(CollectorEventType::kIpList, {"tor/exit_nodes"}),
      Keys(CollectorEventType::kIpList,
           {"tor/exit_nodes", "known_threat_actors/x"}),
      Wave(true),
      Wave(false),
      Wave(false),
      // pg: five scans, one repeated duration (a set keeps it once) and one
      // that failed: four distinct samples, not compressed yet.
      Scan("pg", "sql_injection", 1.0 / 128),
      Scan("pg", "sql_injection", 1.0 / 64),
      Scan("pg", "sql_injection", 1.0 / 64, /*has_errors=*/true),
      Scan("pg", "sql_injection", 1.0 / 32),
      Scan("pg", "sql_injection", 1.0 / 16),
      Scan("fs", "path_traversal", 1.0 / 4),
      Attack("pg", "sql_injection", /*blocked=*/true),
      Attack("pg", "sql_injection", /*blocked=*/false),
      Attack("child_process", "shell_injection", /*blocked=*/true),
      User("u1", "Ann", "10.0.0.1", 1700000010123, 1700000010123),
      User("u1", "Ann B.", "10.0.0.2", 1700000005000, 1700000020999),
      User("u1", "Old", "10.0.0.3", 1700000011000, 1700000012000),  // stale
      User("u2", "", "", 1700000015500, 1700000015500),
      Outbound("API.Example.com", 443),
      Outbound("api.example.com", 443),
      Outbound("api.example.com", 80),
      Outbound("internal", 0),
      Route(
          "GET", "/users/:id",
          R"({"query":{"type":"object","properties":{"id":{"type":"string"}}},)"
          R"("auth":[{"type":"http","scheme":"Bearer"}]})"),
      Route("POST", "/users",
            R"({"body":{"type":"json","schema":{"type":"object","properties":)"
            R"({"name":{"type":"string"},"tags":{"type":"array","items":)"
            R"({"type":"string"}}}}}})"),
      Route("GET", "/users/:id",
            R"({"query":{"type":"object","properties":{"id":{"type":"number"},)"
            R"("page":{"type":"number"}}},)"
            R"("auth":[{"type":"apiKey","in":"header","name":"x-api-key"}]})"),
      Route("POST", "/users"),  // no schema: uses up the second sample
      Route("GET", "/health"),
      // Past the two samples: counted, not merged.
      Route(
          "GET", "/users/:id",
          R"({"query":{"type":"object","properties":{"extra":{"type":"boolean"}}}})"),
      Route("POST", "/users", R"({"body":{"type":"xml"}})"),
  });
  // The sixth distinct pg duration finds four waiting and compresses them,
  // stamped with the clock's time then.
  clock.now = At(1700000030.5);
  collector.Record(Scan("pg", "sql_injection", 1.0 / 8));
  collector.MarkMiddlewareInstalled();

  clock.now = At(1700000060.25);
  HeartbeatOptions heartbeat_options;
  heartbeat_options.agent_json =
      R"({"library":"firewall-cpp","version":"0.1"})";
  absl::StatusOr<std::string> document =
      HeartbeatJson(collector.Flush(), heartbeat_options);
  ASSERT_TRUE(document.ok()) << document.status();

  const std::string expected = R"({
    "type": "heartbeat",
    "time": 1700000060000,
    "agent": {"library": "firewall-cpp", "version": "0.1"},

    "stats": {
      "startedAt": 1700000000000,
      "endedAt": 1700000060000,

      "operations": {
        "pg": {
          "kind": "sql_injection",
          "total": 6,
          "interceptorThrewError": 1,
          "withoutContext": 0,
          "attacksDetected": {"total": 2, "blocked": 1},
          "compressedTimings": [
            {
              "averageInMs": 29.296875,
              "percentiles": {"50": 31.25, "75": 62.5, "90": 62.5,
                              "95": 62.5, "99": 62.5},
              "compressedAt": 1700000030000
            },
            {
              "averageInMs": 125.0,
              "percentiles": {"50": 125.0, "75": 125.0, "90": 125.0,
                              "95": 125.0, "99": 125.0},
              "compressedAt": 1700000060000
            }
          ]
        },
        "fs": {
          "kind": "path_traversal",
          "total": 1,
          "interceptorThrewError": 0,
          "withoutContext": 0,
          "attacksDetected": {"total": 0, "blocked": 0},
          "compressedTimings": [
            {
              "averageInMs": 250.0,
              "percentiles": {"50": 250.0, "75": 250.0, "90": 250.0,
                              "95": 250.0, "99": 250.0},
              "compressedAt": 1700000060000
            }
          ]
        },
        "child_process": {
          "kind": "shell_injection",
          "total": 0,
          "interceptorThrewError": 0,
          "withoutContext": 0,
          "attacksDetected": {"total": 1, "blocked": 1},
          "compressedTimings": []
        }
      },

      "requests": {
        "total": 3,
        "aborted": 0,
        "rateLimited": 1,
        "attacksDetected": {"total": 3, "blocked": 2},
        "attackWaves": {"total": 3, "blocked": 1}
      },
      "userAgents": {"breakdown": {"googlebot": 2, "ahrefs": 1}},
      "ipAddresses": {
        "breakdown": {"tor/exit_nodes": 2, "known_threat_actors/x": 1}
      }
    },

    "users": [
      {
        "id": "u1",
        "name": "Ann B.",
        "lastIpAddress": "10.0.0.2",
        "firstSeenAt": 1700000005000,
        "lastSeenAt": 1700000020000
      },
      {"id": "u2", "firstSeenAt": 1700000015000, "lastSeenAt": 1700000015000}
    ],

    "routes": [
      {
        "method": "GET",
        "path": "/users/:id",
        "hits": 3,
        "apispec": {
          "query": {
            "type": "object",
            "properties": {
              "id": {"type": ["number", "string"]},
              "page": {"type": "number", "optional": true}
            }
          },
          "auth": [
            {"type": "http", "scheme": "bearer"},
            {"type": "apiKey", "in": "header", "name": "x-api-key"}
          ]
        }
      },
      {
        "method": "POST",
        "path": "/users",
        "hits": 3,
        "apispec": {
          "body": {
            "type": "json",
            "schema": {
              "type": "object",
              "properties": {
                "name": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}}
              }
            }
          }
        }
      },
      {"method": "GET", "path": "/health", "hits": 1}
    ],

    "hostnames": [
      {"hostname": "api.example.com", "port": 443, "hits": 2},
      {"hostname": "api.example.com", "port": 80, "hits": 1},
      {"hostname": "internal", "hits": 1}
    ],

    "middlewareInstalled": true
  })";
  // Where each expectation comes from (lib/aikido/zen/ in the reference):
  //  type, time, agent, key names at the top: event.rb (Event#as_json,
  //    Heartbeat#as_json); time is `Time#to_i * 1000`.
  //  stats.*: collector/stats.rb (Stats#as_json): startedAt/endedAt as
  //    whole seconds in ms, "aborted" never counted, attacksDetected summed
  //    over the sinks, breakdowns counted per key.
  //  operations.*: collector/sink_stats.rb: kind from the latest scan or
  //    attack, "withoutContext" 0, timings a Set (1/64 s counted once),
  //    compressed when max_performance_samples are waiting and at flush,
  //    mean and sorted[floor(n * p / 100.0)] in seconds written times 1000,
  //    compressedAt `to_i * 1000`; a sink only attacked has no timings.
  //  users: collector/users.rb and actor.rb (Actor#merge: the earliest
  //    first sighting, name and address of the latest; Actor.from_json
  //    reads ms / 1000, so times lose their ms; nil name and address left
  //    out by `compact`).
  //  routes: collector/routes.rb (Record#increment: the first
  //    api_schema_max_samples hits are sampled, with or without a schema)
  //    and request/schema.rb, schema/definition.rb, schema/auth_schemas.rb
  //    (a missing property merges with null, so optional; string | number
  //    gives the sorted list; http schemes written lowercased; no
  //    "apispec" while the schema is EMPTY_SCHEMA).
  //  hostnames: collector/hosts.rb and outbound_connection.rb (hostname
  //    downcased, counted per hostname and port, a nil port left out).
  //  middlewareInstalled: collector.rb (a flag never reset by flush).
  const std::vector<std::string> diffs = JsonDiff(*document, expected);
  for (const std::string& diff : diffs) ADD_FAILURE() << diff;
  EXPECT_TRUE(diffs.empty()) << *document;
}

TEST(HeartbeatTest, ComparisonCatchesADifference) {
  // The golden test is only as good as its comparison.
  EXPECT_TRUE(
      JsonDiff(R"({"a":[1,{"b":2.0}]})", R"({"a":[1,{"b":2}]})").empty());
  EXPECT_EQ(JsonDiff(R"({"a":1,"b":2})", R"({"a":1})").size(), 1u);
  EXPECT_EQ(JsonDiff(R"({"a":1})", R"({"a":1,"b":2})").size(), 1u);
  EXPECT_EQ(JsonDiff(R"({"a":[1,2]})", R"({"a":[2,1]})").size(), 2u);
  EXPECT_EQ(JsonDiff(R"({"a":"1"})", R"({"a":1})").size(), 1u);
  EXPECT_EQ(JsonDiff(R"({"a":1,"a":1})", R"({"a":1})").size(), 1u);
}

TEST(HeartbeatTest, EmptyPeriodHasEveryKey) {
  CollectorStats stats;
  stats.started_at = At(100.999);
  stats.ended_at = At(160);
  absl::StatusOr<std::string> document = HeartbeatJson(stats);
  ASSERT_TRUE(document.ok());
  EXPECT_EQ(*document,
            R"({"type":"heartbeat","time":160000,"stats":{"startedAt":100000,)"
            R"("endedAt":160000,"operations":{},"requests":{"total":0,)"
            R"("aborted":0,"rateLimited":0,"attacksDetected":{"total":0,)"
            R"("blocked":0},"attackWaves":{"total":0,"blocked":0}},)"
            R"("userAgents":{"breakdown":{}},"ipAddresses":{"breakdown":{}}},)"
            R"("users":[],"routes":[],"hostnames":[],)"
            R"("middlewareInstalled":false})");
}

TEST(HeartbeatTest, FarTimesSaturateInsteadOfOverflowing) {
  CollectorStats stats;
  stats.started_at = absl::InfinitePast();
  stats.ended_at = absl::InfiniteFuture();
  absl::StatusOr<std::string> document = HeartbeatJson(stats);
  ASSERT_TRUE(document.ok());
  EXPECT_NE(document->find(R"("startedAt":-9223372036854775000,)"),
            std::string::npos)
      << *document;
  EXPECT_NE(document->find(R"("endedAt":9223372036854775000,)"),
            std::string::npos)
      << *document;
}

TEST(HeartbeatTest, TimeOptionOverridesTheEndOfThePeriod) {
  CollectorStats stats;
  stats.ended_at = At(160);
  HeartbeatOptions options;
  options.time = At(161.5);
  absl::StatusOr<std::string> document = HeartbeatJson(stats, options);
  ASSERT_TRUE(document.ok());
  EXPECT_NE(document->find(R"("time":161000,)"), std::string::npos)
      << *document;
}

TEST(HeartbeatTest, RejectsAnAgentBlockThatIsNotAnObject) {
  CollectorStats stats;
  for (const char* bad : {"[1]", "{\"a\":", "\"x\"", "{} {}"}) {
    HeartbeatOptions options;
    options.agent_json = bad;
    EXPECT_EQ(HeartbeatJson(stats, options).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

// Ruby's Float#to_s, which the reference's JSON.dump uses: byte-for-byte.
TEST(HeartbeatTest, WritesTimingsAsRubyWritesFloats) {
  auto written = [](double seconds) {
    CollectorStats stats;
    CollectorStats::Sink sink;
    sink.name = "pg";
    CollectorStats::CompressedTiming timing;
    timing.mean_seconds = seconds;
    sink.compressed_timings.push_back(timing);
    stats.sinks.push_back(sink);
    std::string document = HeartbeatJson(stats).value();
    const std::string key = "\"averageInMs\":";
    const size_t start = document.find(key) + key.size();
    return document.substr(start, document.find(',', start) - start);
  };
  EXPECT_EQ(written(0.125), "125.0");
  EXPECT_EQ(written(0), "0.0");
  EXPECT_EQ(written(0.0015), "1.5");
  EXPECT_EQ(written(1.0 / (1 << 20)), "0.00095367431640625");  // exponent -4
  EXPECT_EQ(written(1.0 / (1 << 30)), "9.313225746154785e-07");
  EXPECT_EQ(written(1e14), "1.0e+17");
  EXPECT_EQ(written(1e12), "1.0e+15");
  EXPECT_EQ(written(1e11), "100000000000000.0");
  EXPECT_EQ(written(1234567.890625), "1234567890.625");
  EXPECT_EQ(written(-0.25), "-250.0");
}

TEST(HeartbeatTest, SnapshotReportsPendingTimingsWithoutConsumingThem) {
  FakeClock clock;
  clock.now = At(10);
  CollectorOptions options;
  options.clock = clock.AsFunction();
  Collector collector(options);
  collector.Record(Scan("pg", "sql_injection", 0.5));
  clock.now = At(20);
  const std::string snapshot = HeartbeatJson(collector.Snapshot()).value();
  EXPECT_NE(snapshot.find(R"("averageInMs":500.0,)"), std::string::npos);
  EXPECT_NE(snapshot.find(R"("compressedAt":20000})"), std::string::npos);
  clock.now = At(30);
  const std::string flushed = HeartbeatJson(collector.Flush()).value();
  EXPECT_NE(flushed.find(R"("compressedTimings":[{"averageInMs":500.0,)"),
            std::string::npos)
      << flushed;
  EXPECT_NE(flushed.find(R"("compressedAt":30000}])"), std::string::npos)
      << flushed;
}

}  // namespace
}  // namespace zen
