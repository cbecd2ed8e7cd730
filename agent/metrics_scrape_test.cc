// AgentServer::WriteMetrics against the calls real forked workers made over
// real sockets, read back by a strict parser of the exposition format.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/agent.h"
#include "agent/agent_server.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "rpc/channel.h"
#include "testing/deadline.h"
#include "testing/exposition_parser.h"
#include "testing/forked_child.h"
#include "testing/sanitizers.h"
#include "testing/test_secret.h"

namespace zen {
namespace {

using ::zen::testing::ChildOutcome;
using ::zen::testing::Eventually;
using ::zen::testing::Exposition;
using ::zen::testing::In;
using ::zen::testing::ParseExposition;
using ::zen::testing::RunInChild;
using ::zen::testing::StartTogether;

AgentOptions QuietOptions() {
  AgentOptions options;
  // Only the flushes a test makes: the sums then hold exactly its calls.
  options.client.flush_interval = absl::Hours(1);
  options.client.polling_interval = absl::Hours(1);
  options.client.watch_settings = false;
  options.client.reconnect_delay = absl::Milliseconds(50);
  return options;
}

absl::Status MakeCalls(AgentClient* client, int rate_limits, int waves) {
  for (int i = 0; i < rate_limits; ++i) {
    if (!client->CalculateRateLimits({"GET", "/x"}, "192.0.2.1", std::nullopt)
             .from_parent) {
      return absl::UnavailableError("rate limit not from the parent");
    }
  }
  for (int i = 0; i < waves; ++i) {
    if (!client->RecordAttackWave("192.0.2.2", "GET", "/.env").from_parent) {
      return absl::UnavailableError("attack wave not from the parent");
    }
  }
  return absl::OkStatus();
}

// The scrape, parsed strictly (a failure fails the test).
Exposition Scrape(AgentServer* server) {
  std::string text;
  server->WriteMetrics(&text);
  absl::StatusOr<Exposition> parsed = ParseExposition(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
  return parsed.ok() ? *std::move(parsed) : Exposition();
}

double Calls(const Exposition& e, const std::string& side,
             const std::string& method) {
  return e.Value("zen_agent_" + side + "_calls_total", {{"method", method}})
      .value_or(-1);
}

TEST(MetricsScrapeTest, CountsWhatForkedWorkersCalledAndKeepsItAfterExit) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  auto agent = Agent::Create(QuietOptions());
  ASSERT_TRUE(agent.ok()) << agent.status();
  AgentServer* server = (*agent)->server();
  // Worker i asks 5*(i+1) rate limits and reports 2 attack-wave samples.
  auto children = StartTogether(3, [&agent](int index) -> absl::Status {
    AgentClient* client = (*agent)->client();
    if (client == nullptr) return absl::UnavailableError("no client");
    absl::Status called = MakeCalls(client, 5 * (index + 1), 2);
    if (!called.ok()) return called;
    return client->Flush();
  });
  ASSERT_TRUE(children.ok()) << children.status();
  for (auto& child : *children) {
    ChildOutcome outcome = child.Wait(In(absl::Seconds(60)));
    EXPECT_TRUE(outcome.ok()) << outcome.ToString();
  }
  // The server counts a call once its handler returned: let the last one.
  ASSERT_TRUE(Eventually(
      [&] { return Calls(Scrape(server), "server", "report_metrics") == 3; }));
  const Exposition scrape = Scrape(server);
  EXPECT_EQ(Calls(scrape, "worker", "calculate_rate_limits"), 30);
  EXPECT_EQ(Calls(scrape, "server", "calculate_rate_limits"), 30);
  EXPECT_EQ(Calls(scrape, "worker", "record_attack_wave"), 6);
  EXPECT_EQ(Calls(scrape, "server", "record_attack_wave"), 6);
  EXPECT_EQ(scrape.Value("zen_agent_worker_latency_seconds_count",
                         {{"method", "calculate_rate_limits"}}),
            30);
  EXPECT_EQ(scrape.Value("zen_agent_worker_latency_seconds_bucket",
                         {{"method", "calculate_rate_limits"}, {"le", "+Inf"}}),
            30);
  EXPECT_GT(*scrape.Value("zen_agent_worker_latency_seconds_sum",
                          {{"method", "calculate_rate_limits"}}),
            0);
  EXPECT_FALSE(scrape.Value(
      "zen_agent_worker_errors_total",
      {{"method", "calculate_rate_limits"}, {"code", "UNAVAILABLE"}}));
  EXPECT_EQ(scrape.Value("zen_agent_worker_metrics_reports_total"), 3);
  EXPECT_EQ(scrape.Value("zen_agent_worker_metrics_rejected_total"), 0);
  // Every worker has exited: their figures stay in the sums.
  EXPECT_EQ(Calls(Scrape(server), "worker", "calculate_rate_limits"), 30);
}

TEST(MetricsScrapeTest, GrandchildReportsOnlyItsOwnCalls) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  auto agent = Agent::Create(QuietOptions());
  ASSERT_TRUE(agent.ok()) << agent.status();
  ChildOutcome worker = RunInChild([&agent]() -> absl::Status {
    AgentClient* client = (*agent)->client();
    if (client == nullptr) return absl::UnavailableError("no client");
    absl::Status called = MakeCalls(client, 4, 0);
    if (!called.ok()) return called;
    // Forked with 4 calls counted and reported by neither process yet.
    ChildOutcome grandchild = RunInChild([&agent]() -> absl::Status {
      AgentClient* own = (*agent)->client();
      if (own == nullptr) return absl::UnavailableError("no client");
      absl::Status made = MakeCalls(own, 3, 0);
      if (!made.ok()) return made;
      return own->Flush();
    });
    if (!grandchild.ok()) return absl::InternalError(grandchild.ToString());
    return client->Flush();
  });
  ASSERT_TRUE(worker.ok()) << worker.ToString();
  const Exposition scrape = Scrape((*agent)->server());
  EXPECT_EQ(Calls(scrape, "worker", "calculate_rate_limits"), 7);
  EXPECT_EQ(scrape.Value("zen_agent_worker_metrics_reports_total"), 2);
}

// A worker that sends what it likes: the parent keeps a bounded, valid
// scrape (names checked, at most 256 method series plus "_other", label
// values escaped) and counts what it refused.
TEST(MetricsScrapeTest, HostileReportsLeaveABoundedValidScrape) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  const ipc::Secret secret = testing::TestSecret();
  auto server = AgentServer::Create(&secret);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Start().ok());
  const uint16_t port = (*server)->port();
  ChildOutcome hostile = RunInChild([&secret, port]() -> absl::Status {
    rpc::ChannelOptions options;
    options.connector.port = port;
    absl::StatusOr<std::unique_ptr<rpc::Channel>> channel =
        rpc::Channel::Create(&secret, options);
    if (!channel.ok()) return channel.status();
    auto send = [&](const std::string& methods) {
      return (*channel)
          ->Call("report_metrics", "[]",
                 absl::StrCat(R"({"methods":[)", methods, "]}"))
          .status();
    };
    std::string many;
    for (int i = 0; i < 300; ++i) {
      absl::StrAppend(&many, i ? "," : "", R"({"method":"m)", i,
                      R"(","buckets":[1],"codes":[1]})");
    }
    for (
        const std::string& methods :
        {many, std::string(R"({"method":"a\"b\nc","buckets":[2],"codes":[2]})"),
         std::string(R"({"method":"x","buckets":[1],"codes":[5]})"),
         std::string(
             R"({"method":"x","buckets":[1,1,1,1,1,1,1,1,1,1,1,1,1],"codes":[13]})"),
         std::string(
             R"({"method":"m0","buckets":[18446744073709551615],"codes":[18446744073709551615]})")}) {
      absl::Status sent = send(methods);
      if (!sent.ok()) return sent;
    }
    // Not a report at all: refused by the stub's decoder, nothing kept.
    if (send(R"({"method":7,"buckets":"x"})").ok()) {
      return absl::InternalError("a report of the wrong types was taken");
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(hostile.ok()) << hostile.ToString();
  const Exposition scrape = Scrape(server->get());
  const auto& calls =
      scrape.families.at("zen_agent_worker_calls_total").samples;
  EXPECT_EQ(calls.size(), 257u);  // 256 kept, the rest in "_other".
  EXPECT_EQ(Calls(scrape, "worker", "m0"), 1);
  EXPECT_EQ(Calls(scrape, "worker", "_other"), 44 + 2);
  EXPECT_EQ(scrape.Value("zen_agent_worker_metrics_rejected_total"), 3);
  EXPECT_EQ(scrape.Value("zen_agent_worker_metrics_reports_total"), 5);
}

}  // namespace
}  // namespace zen
