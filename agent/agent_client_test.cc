// AgentServer and AgentClient in one process (so ThreadSanitizer sees both
// sides): every client operation against the real server over loopback.
#include "agent/agent_client.h"

#include <time.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/agent_server.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "rpc/server.h"

namespace zen {
namespace {

constexpr char kConfig[] = R"({
  "configUpdatedAt": 7,
  "endpoints": [{"method": "POST", "route": "/login", "forceProtectionOff": false,
                 "rateLimiting": {"enabled": true, "maxRequests": 10, "windowSizeInMS": 60000}}]
})";
constexpr char kLists[] =
    R"({"blockedIPAddresses": [{"key": "bad", "source": "test",
  "description": "bad actors", "ips": ["203.0.113.0/24"]}]})";

struct Fixture {
  Fixture() : secret(*ipc::Secret::Generate()) {
    server = *AgentServer::Create(&secret);
    EXPECT_TRUE(server->Start().ok());
  }
  std::unique_ptr<AgentClient> Client(AgentClientOptions options = {}) {
    options.port = server->port();
    options.polling_jitter = absl::ZeroDuration();
    auto client = AgentClient::Create(&secret, options);
    EXPECT_TRUE(client.ok()) << client.status();
    return std::move(*client);
  }
  ipc::Secret secret;
  std::unique_ptr<AgentServer> server;
};

TEST(AgentClientTest, PollAppliesSettingsThroughTheSameParser) {
  Fixture f;
  ASSERT_TRUE(f.server->UpdateConfig(kConfig).ok());
  ASSERT_TRUE(f.server->UpdateFirewallLists(kLists).ok());
  AgentClientOptions polling;
  polling.watch_settings = false;  // Only this test's polls apply settings.
  auto client = f.Client(polling);
  ASSERT_TRUE(client->PollSettings().ok());
  EXPECT_EQ(client->settings()->config_updated_at(), absl::FromUnixMillis(7));
  EXPECT_TRUE(client->settings()->IsIpBlocked("203.0.113.9").has_value());
  EXPECT_FALSE(client->settings()->IsIpBlocked("198.51.100.1").has_value());
  const AgentClientStats stats = client->stats();
  ASSERT_TRUE(stats.config_generation.has_value());
  // Unchanged: the next poll applies nothing.
  ASSERT_TRUE(client->PollSettings().ok());
  EXPECT_EQ(client->stats().settings_applied, stats.settings_applied);
}

TEST(AgentClientTest, MalformedDocumentIsRejectedAndPreviousStays) {
  Fixture f;
  ASSERT_TRUE(f.server->UpdateConfig(kConfig).ok());
  EXPECT_FALSE(f.server->UpdateConfig("{not json").ok());
  EXPECT_EQ(f.server->settings()->config_updated_at(), absl::FromUnixMillis(7));
  auto client = f.Client();
  ASSERT_TRUE(client->PollSettings().ok());
  EXPECT_EQ(client->settings()->config_updated_at(), absl::FromUnixMillis(7));
}

TEST(AgentClientTest, RateLimitsAreSharedAcrossClients) {
  Fixture f;
  ASSERT_TRUE(f.server->UpdateConfig(kConfig).ok());
  std::vector<std::unique_ptr<AgentClient>> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(f.Client());
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        RateLimitAnswer a = clients[t % 4]->CalculateRateLimits(
            {"POST", "/login"}, "192.0.2.1", std::nullopt);
        EXPECT_TRUE(a.from_parent);
        if (a.result && !a.result->throttled) admitted.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 10);
  // No limit configured for this route: the wire's null.
  RateLimitAnswer none =
      clients[0]->CalculateRateLimits({"GET", "/"}, "192.0.2.1", std::nullopt);
  EXPECT_TRUE(none.from_parent);
  EXPECT_FALSE(none.result.has_value());
}

TEST(AgentClientTest, ASpinningClientGetsTheSameAnswers) {
  Fixture f;
  ASSERT_TRUE(f.server->UpdateConfig(kConfig).ok());
  AgentClientOptions options;
  options.spin_before_block = absl::Milliseconds(1);
  auto client = f.Client(options);
  ASSERT_TRUE(client->PollSettings().ok());
  EXPECT_EQ(client->settings()->config_updated_at(), absl::FromUnixMillis(7));
  int admitted = 0;
  for (int i = 0; i < 12; ++i) {
    RateLimitAnswer a = client->CalculateRateLimits({"POST", "/login"},
                                                    "192.0.2.7", std::nullopt);
    EXPECT_TRUE(a.from_parent);
    if (a.result && !a.result->throttled) ++admitted;
  }
  EXPECT_EQ(admitted, 10);
}

TEST(AgentClientTest, EventsAreFoldedAndKeptWhenTheParentIsGone) {
  Fixture f;
  auto client = f.Client();
  for (int i = 0; i < 100; ++i) {
    CollectorEvent e;
    e.type = i % 2 ? CollectorEventType::kRequest
                   : CollectorEventType::kRateLimitedRequest;
    client->RecordEvent(e);
  }
  ASSERT_TRUE(client->Flush().ok());
  const absl::Time deadline = zen::Now() + absl::Seconds(5);
  while (f.server->collector().Snapshot().requests < 50 &&
         zen::Now() < deadline) {
    zen::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(f.server->collector().Snapshot().requests, 50u);
  EXPECT_EQ(f.server->collector().Snapshot().rate_limited_requests, 50u);

  f.server->Stop();
  CollectorEvent e;
  e.type = CollectorEventType::kRequest;
  client->RecordEvent(e);
  EXPECT_FALSE(client->Flush().ok());
  EXPECT_EQ(client->stats().flush_failures, 1u);
  EXPECT_EQ(client->stats().events_dropped, 0u);  // Kept for the next try.
  // The rate limiter falls back to the local one, and says so.
  RateLimitAnswer a =
      client->CalculateRateLimits({"GET", "/"}, "1.2.3.4", std::nullopt);
  EXPECT_FALSE(a.from_parent);
}

TEST(AgentClientTest, EventBufferIsBoundedAndCountsDrops) {
  Fixture f;
  AgentClientOptions options;
  options.max_buffered_events = 10;
  auto client = f.Client(options);
  for (int i = 0; i < 25; ++i) client->RecordEvent(CollectorEvent());
  EXPECT_EQ(client->stats().events_dropped, 15u);
  ASSERT_TRUE(client->Flush().ok());
  EXPECT_EQ(client->stats().events_sent, 10u);
}

TEST(AgentClientTest, AttackWaveIsReportedOnceAtTheThreshold) {
  Fixture f;
  auto client = f.Client();
  for (int i = 1; i < 15; ++i) {
    AttackWaveAnswer r = client->RecordAttackWave(
        "198.51.100.7", "GET", absl::StrCat("/probe", i % 3));
    EXPECT_TRUE(r.from_parent);
    EXPECT_FALSE(r.samples.has_value()) << i;
  }
  AttackWaveAnswer wave =
      client->RecordAttackWave("198.51.100.7", "GET", "/.git/config");
  ASSERT_TRUE(wave.samples.has_value());
  // Every request counts; the samples are the distinct ones.
  ASSERT_EQ(wave.samples->size(), 4u);
  EXPECT_EQ(wave.samples->front().url, "/probe1");
  EXPECT_EQ(wave.samples->back().url, "/.git/config");
  AttackWaveAnswer after =
      client->RecordAttackWave("198.51.100.7", "GET", "/x");
  EXPECT_FALSE(after.samples.has_value());  // Flagged: reported once.
  EXPECT_EQ(client->stats().attack_wave_fallbacks, 0u);
}

TEST(AgentClientTest, AttackWaveFallsBackToALocalDetectorWhenTheParentIsGone) {
  Fixture f;
  AgentClientOptions options;
  options.attack_wave.threshold = 3;
  auto client = f.Client(options);
  f.server->Stop();
  const absl::Time start = zen::Now();
  EXPECT_FALSE(client->RecordAttackWave("ip", "GET", "/a").samples);
  EXPECT_FALSE(client->RecordAttackWave("ip", "GET", "/b").samples);
  AttackWaveAnswer wave = client->RecordAttackWave("ip", "GET", "/c");
  EXPECT_FALSE(wave.from_parent);
  ASSERT_TRUE(wave.samples.has_value());
  EXPECT_EQ(wave.samples->size(), 3u);
  EXPECT_EQ(client->stats().attack_wave_fallbacks, 3u);
  // A parent that is gone fails fast (the connection is refused or closed),
  // well within the 1 s timeout each.
  EXPECT_LT(zen::Now() - start, absl::Seconds(3));
}

TEST(AgentClientTest, AttackWaveFallbackWaitsNoLongerThanItsTimeout) {
  // A parent that accepts the call but never answers: a server whose
  // record_attack_wave handler blocks.
  ipc::Secret secret = *ipc::Secret::Generate();
  auto server = *rpc::Server::Create(&secret, {});
  std::atomic<bool> release{false};
  server->RegisterHandler("record_attack_wave", [&](rpc::ServerCall&) {
    const absl::Time limit = zen::Now() + absl::Seconds(10);
    while (!release.load() && zen::Now() < limit) {
      zen::SleepFor(absl::Milliseconds(5));
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(server->Start().ok());
  AgentClientOptions options;
  options.port = server->port();
  options.polling_jitter = absl::ZeroDuration();
  options.attack_wave_timeout = absl::Milliseconds(200);
  options.attack_wave.threshold = 1;
  auto client = *AgentClient::Create(&secret, options);
  const absl::Time start = zen::Now();
  AttackWaveAnswer wave = client->RecordAttackWave("ip", "GET", "/.env");
  const absl::Duration took = zen::Now() - start;
  EXPECT_FALSE(wave.from_parent);
  EXPECT_TRUE(wave.samples.has_value());
  EXPECT_GE(took, absl::Milliseconds(200));
  EXPECT_LT(took, absl::Seconds(2));
  release.store(true);
  client->Stop();
  server->Stop();
}

TEST(AgentClientTest, BackgroundPollingAndFlushingRun) {
  Fixture f;
  ASSERT_TRUE(f.server->UpdateConfig(kConfig).ok());
  AgentClientOptions options;
  options.polling_interval = absl::Milliseconds(50);
  options.flush_interval = absl::Milliseconds(50);
  std::atomic<int> notified{0};
  options.on_settings = [&](std::shared_ptr<const RuntimeSettings>) {
    notified++;
  };
  auto client = f.Client(options);
  client->RecordEvent(CollectorEvent());
  const absl::Time deadline = zen::Now() + absl::Seconds(5);
  while ((notified.load() == 0 ||
          f.server->collector().Snapshot().requests == 0) &&
         zen::Now() < deadline) {
    zen::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE(notified.load(), 1);
  EXPECT_EQ(f.server->collector().Snapshot().requests, 1u);
  client->Stop();
}

// A parent without watch_settings (a reference parent, or one of ours from
// before it): the client's one watch is answered UNIMPLEMENTED, and it
// polls updated_settings from then on.
TEST(AgentClientTest, AParentWithoutWatchSettingsIsPolled) {
  ipc::Secret secret = *ipc::Secret::Generate();
  auto server = *rpc::Server::Create(&secret, {});
  std::atomic<int> polls{0};
  server->RegisterHandler("ping",
                          [](rpc::ServerCall&) { return absl::OkStatus(); });
  server->RegisterHandler("updated_settings", [&](rpc::ServerCall& call) {
    ++polls;
    call.Respond(R"({"config":{"configUpdatedAt":5},"config_generation":1})");
    return absl::OkStatus();
  });
  ASSERT_TRUE(server->Start().ok());
  AgentClientOptions options;
  options.port = server->port();
  options.polling_interval = absl::Milliseconds(50);
  options.polling_jitter = absl::ZeroDuration();
  auto client = AgentClient::Create(&secret, options);
  ASSERT_TRUE(client.ok()) << client.status();
  const absl::Time give_up = zen::Now() + absl::Seconds(10);
  while (polls.load() < 3 && zen::Now() < give_up) {
    zen::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_GE(polls.load(), 3);
  EXPECT_EQ((*client)->settings()->config_updated_at(),
            absl::FromUnixMillis(5));
  EXPECT_EQ((*client)->stats().settings_watches, 1u);  // Asked once only.
  (*client)->Stop();
  server->Stop();
}

// A parent with no room for a watch (RESOURCE_EXHAUSTED): the client polls
// updated_settings on its schedule until a watch is answered again, then
// skips polls again.
TEST(AgentClientTest, ARefusedWatchFallsBackToPollingUntilAWatchIsAnswered) {
  ipc::Secret secret = *ipc::Secret::Generate();
  auto server = *rpc::Server::Create(&secret, {});
  std::atomic<bool> refusing{true};
  std::atomic<int> polls{0}, watches{0};
  server->RegisterHandler("ping",
                          [](rpc::ServerCall&) { return absl::OkStatus(); });
  server->RegisterHandler("updated_settings", [&](rpc::ServerCall& call) {
    ++polls;
    call.Respond(R"({"config":{"configUpdatedAt":5},"config_generation":1})");
    return absl::OkStatus();
  });
  server->RegisterHandler("watch_settings", [&](rpc::ServerCall& call) {
    ++watches;
    if (refusing.load()) {
      call.RespondError(absl::ResourceExhaustedError(
          "too many settings watches waiting; poll updated_settings"));
    } else {
      zen::SleepFor(absl::Milliseconds(50));  // Parked, then nothing new.
      call.Respond("{}");
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(server->Start().ok());
  AgentClientOptions options;
  options.port = server->port();
  options.polling_interval = absl::Milliseconds(50);
  options.polling_jitter = absl::ZeroDuration();
  auto client = AgentClient::Create(&secret, options);
  ASSERT_TRUE(client.ok()) << client.status();
  const auto wait_for = [](const std::atomic<int>& n, int at_least) {
    const absl::Time give_up = zen::Now() + absl::Seconds(10);
    while (n.load() < at_least && zen::Now() < give_up) {
      zen::SleepFor(absl::Milliseconds(2));
    }
    return n.load() >= at_least;
  };
  // Refused: polls bring the settings, and the watch is tried again.
  ASSERT_TRUE(wait_for(polls, 3));
  ASSERT_TRUE(wait_for(watches, 2));
  EXPECT_EQ((*client)->settings()->config_updated_at(),
            absl::FromUnixMillis(5));
  EXPECT_GE((*client)->stats().settings_watches_refused, 2u);

  refusing = false;
  // Once a watch asked after this one arrives, the client has had an
  // answered watch: polls are skipped again (one may have been under way).
  const int answered_from = watches.load() + 1;
  ASSERT_TRUE(wait_for(watches, answered_from + 1));
  const int polls_then = polls.load();
  ASSERT_TRUE(wait_for(watches, answered_from + 4));
  EXPECT_LE(polls.load(), polls_then + 1);
  (*client)->Stop();
  server->Stop();
}

// CPU time of this whole process.
absl::Duration ProcessCpu() {
  timespec ts;
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return absl::DurationFromTimespec(ts);
}

// While nothing changes a watching client waits: one watch parked in the
// parent, no polls, no busy loop (one spun here once: the skipped poll's
// time was never advanced).
TEST(AgentClientTest, AnIdleWatchingClientUsesNoCpu) {
  Fixture f;
  ASSERT_TRUE(f.server->UpdateConfig(kConfig).ok());
  AgentClientOptions options;
  options.polling_interval = absl::Milliseconds(20);
  auto client = f.Client(options);
  const absl::Time give_up = zen::Now() + absl::Seconds(10);
  while (f.server->settings_watches_waiting() != 1 && zen::Now() < give_up) {
    zen::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(f.server->settings_watches_waiting(), 1u);
  const absl::Duration cpu = ProcessCpu();
  zen::SleepFor(absl::Milliseconds(500));
  // Client and server both live in this process; a spinning thread would
  // burn about the whole 500 ms.
  EXPECT_LT(ProcessCpu() - cpu, absl::Milliseconds(150));
  EXPECT_EQ(client->stats().settings_polls, 0u);
  client->Stop();
}

}  // namespace
}  // namespace zen
