// Agent::client() in the parent: the same API, the server's AgentService
// called directly. A parent (in process) and a worker (over the socket, a
// real fork) asking the same questions of two agents in the same state get
// the same answers, and their events fold into the same statistics.
#include <poll.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "agent/agent.h"
#include "agent/model/heartbeat.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "testing/descriptors.h"
#include "testing/forked_child.h"
#include "testing/sanitizers.h"

namespace zen {
namespace {

constexpr char kConfig[] = R"({
  "configUpdatedAt": 7,
  "blockedUserIds": ["blocked-user"],
  "endpoints": [{"method": "GET", "route": "/limited", "forceProtectionOff": false,
                 "rateLimiting": {"enabled": true, "maxRequests": 25, "windowSizeInMS": 600000}}]
})";
constexpr char kLists[] =
    R"({"blockedIPAddresses": [{"key": "bad", "source": "test",
  "description": "bad actors", "ips": ["203.0.113.0/24"]}],
  "blockedUserAgents": "BadBot"})";

AgentOptions Options() {
  AgentOptions options;
  // Nothing happens on the schedule: every poll and flush is the script's.
  options.client.polling_interval = absl::Hours(1);
  options.client.polling_jitter = absl::Hours(1);
  options.client.flush_interval = absl::Hours(1);
  // No watch either: the worker would apply settings on its own (the
  // in-process client has none to make).
  options.client.watch_settings = false;
  return options;
}

absl::StatusOr<std::unique_ptr<Agent>> AgentWithSettings() {
  absl::StatusOr<std::unique_ptr<Agent>> agent = Agent::Create(Options());
  if (!agent.ok()) return agent.status();
  AgentServer* server = (*agent)->server();
  if (absl::Status s = server->UpdateConfig(kConfig); !s.ok()) return s;
  if (absl::Status s = server->UpdateFirewallLists(kLists); !s.ok()) return s;
  return agent;
}

std::string Describe(const RateLimitAnswer& answer) {
  if (!answer.result) return absl::StrCat("from_parent=", answer.from_parent);
  const RateLimitResult& r = *answer.result;
  return absl::StrCat("from_parent=", answer.from_parent,
                      " throttled=", r.throttled, " by=", r.discriminator,
                      " current=", r.current_requests, " max=", r.max_requests,
                      " remaining=", r.time_remaining_seconds);
}

std::string Describe(const AttackWaveAnswer& answer) {
  std::string out = absl::StrCat("from_parent=", answer.from_parent);
  if (answer.samples) {
    for (const AttackWaveSample& s : *answer.samples) {
      absl::StrAppend(&out, " ", s.method, " ", s.url);
    }
  }
  return out;
}

CollectorEvent Event(CollectorEventType type) {
  CollectorEvent event;
  event.type = type;
  event.timestamp_ms = 1700000000000;
  return event;
}

// Every method, with fixed inputs; the answers as text.
std::string Transcript(AgentClient* client) {
  std::string out;
  absl::StrAppend(&out, "poll: ", client->PollSettings().ToString(), "\n");
  AgentClientStats stats = client->stats();
  absl::StrAppend(&out, "generations: ", stats.config_generation.value_or(-1),
                  " ", stats.firewall_lists_generation.value_or(-1), "\n");
  std::shared_ptr<const RuntimeSettings> settings = client->settings();
  absl::StrAppend(
      &out, "settings: updated_at=",
      absl::ToUnixMillis(settings->config_updated_at()),
      " ip_blocked=", settings->IsIpBlocked("203.0.113.9").has_value(),
      " ip_ok=", settings->IsIpBlocked("198.51.100.1").has_value(),
      " ua_blocked=", settings->IsUserAgentBlocked("BadBot/1.0"),
      " user_blocked=", settings->IsUserBlocked("blocked-user"),
      " endpoint=", settings->FindEndpoint("GET", "/limited") != nullptr, "\n");
  absl::StrAppend(&out, "poll again: ", client->PollSettings().ToString(),
                  " applied=", client->stats().settings_applied, "\n");
  for (int i = 0; i < 30; ++i) {
    absl::StrAppend(&out, "ip limit ", i, ": ",
                    Describe(client->CalculateRateLimits(
                        {"GET", "/limited"}, "10.0.0.1", std::nullopt)),
                    "\n");
  }
  for (int i = 0; i < 5; ++i) {
    absl::StrAppend(&out, "user limit ", i, ": ",
                    Describe(client->CalculateRateLimits(
                        {"GET", "/limited"}, "10.0.0.2",
                        std::optional<absl::string_view>("user-7"))),
                    "\n");
  }
  absl::StrAppend(&out, "unlimited: ",
                  Describe(client->CalculateRateLimits(
                      {"GET", "/free"}, "10.0.0.1", std::nullopt)),
                  "\n");
  for (int i = 0; i < 17; ++i) {
    absl::StrAppend(&out, "probe ", i, ": ",
                    Describe(client->RecordAttackWave(
                        "198.51.100.4", "GET", absl::StrCat("/.env", i % 9))),
                    "\n");
  }
  CollectorEvent route = Event(CollectorEventType::kRoute);
  route.method = "GET";
  route.path = "/limited";
  route.schema_json = R"({"body":{"type":"object"}})";
  CollectorEvent user = Event(CollectorEventType::kUser);
  user.user_id = "user-7";
  user.user_name = "Seven";
  user.ip_address = "10.0.0.2";
  CollectorEvent agent = Event(CollectorEventType::kUserAgent);
  agent.keys = {"bad-bots"};
  CollectorEvent wave = Event(CollectorEventType::kAttackWave);
  wave.blocked = false;
  for (int i = 0; i < 3; ++i) {
    client->RecordEvent(Event(CollectorEventType::kRequest));
  }
  client->RecordEvent(Event(CollectorEventType::kRateLimitedRequest));
  client->RecordEvent(route);
  client->RecordEvent(user);
  client->RecordEvent(agent);
  client->RecordEvent(wave);
  absl::StrAppend(&out, "flush: ", client->Flush().ToString(), "\n");
  return out;
}

// The period's statistics as the heartbeat document, its clock fixed.
std::string Folded(AgentServer* server) {
  CollectorStats stats = server->collector().Snapshot();
  stats.started_at = absl::FromUnixSeconds(1);
  stats.ended_at = absl::FromUnixSeconds(2);
  HeartbeatOptions options;
  options.time = absl::FromUnixSeconds(2);
  absl::StatusOr<std::string> json = HeartbeatJson(stats, options);
  return json.ok() ? *json : json.status().ToString();
}

// Acknowledged before folded: waits (bounded) for `requests` requests.
bool FoldedRequests(AgentServer* server, uint64_t requests) {
  const absl::Time deadline = zen::Now() + absl::Seconds(10);
  while (zen::Now() < deadline) {
    if (server->collector().Snapshot().requests >= requests) return true;
    zen::SleepFor(absl::Milliseconds(5));
  }
  return false;
}

std::string ReadAll(int fd) {
  std::string text;
  char buffer[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0) break;
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

TEST(InProcessClientTest, ParentAndWorkerGetTheSameAnswersForEveryMethod) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  // Two agents in the same state: one asked in process, one by a worker.
  absl::StatusOr<std::unique_ptr<Agent>> parent_side = AgentWithSettings();
  ASSERT_TRUE(parent_side.ok()) << parent_side.status();
  absl::StatusOr<std::unique_ptr<Agent>> worker_side = AgentWithSettings();
  ASSERT_TRUE(worker_side.ok()) << worker_side.status();

  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  Agent* remote = worker_side->get();
  const int out = pipe_fds[1];
  absl::StatusOr<testing::ForkedChild> worker =
      testing::ForkedChild::Start([remote, out]() -> absl::Status {
        AgentClient* client = remote->client();
        if (client == nullptr) return absl::UnavailableError("no client");
        const std::string text = Transcript(client);
        size_t done = 0;
        while (done < text.size()) {
          const ssize_t n =
              ::write(out, text.data() + done, text.size() - done);
          if (n <= 0) return absl::InternalError("pipe");
          done += static_cast<size_t>(n);
        }
        return absl::OkStatus();
      });
  ASSERT_TRUE(worker.ok()) << worker.status();
  ::close(pipe_fds[1]);
  const std::string over_socket = ReadAll(pipe_fds[0]);
  ::close(pipe_fds[0]);
  testing::ChildOutcome outcome = worker->Wait(zen::Now() + absl::Seconds(30));
  ASSERT_TRUE(outcome.ok()) << outcome.ToString();

  AgentClient* local = (*parent_side)->client();
  ASSERT_NE(local, nullptr);
  const std::string in_process = Transcript(local);

  EXPECT_EQ(in_process, over_socket);
  // And the answers are the real ones: the limit admitted 25, a wave was
  // found, the settings arrived.
  EXPECT_NE(in_process.find("ip limit 24: from_parent=1 throttled=0"),
            std::string::npos)
      << in_process;
  EXPECT_NE(in_process.find("ip limit 25: from_parent=1 throttled=1"),
            std::string::npos);
  EXPECT_NE(in_process.find("probe 14: from_parent=1 GET"), std::string::npos);
  EXPECT_NE(in_process.find("ua_blocked=1"), std::string::npos);

  // The same events folded the same way.
  ASSERT_TRUE(FoldedRequests((*parent_side)->server(), 3));
  ASSERT_TRUE(FoldedRequests((*worker_side)->server(), 3));
  EXPECT_EQ(Folded((*parent_side)->server()), Folded((*worker_side)->server()));
}

// The parent's client shares the parent's state (one limiter, one
// collector) and opens no socket. Single process: runs under every
// sanitizer.
TEST(InProcessClientTest, ParentClientUsesTheServersStateWithoutASocket) {
  absl::StatusOr<std::unique_ptr<Agent>> agent = AgentWithSettings();
  ASSERT_TRUE(agent.ok()) << agent.status();
  AgentServer* server = (*agent)->server();
  const uint16_t port = server->port();
  AgentClient* client = (*agent)->client();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ((*agent)->client(), client);  // Made once.
  EXPECT_TRUE(client->connected());
  EXPECT_TRUE(client->parent_alive());
  ASSERT_TRUE(client->PollSettings().ok());
  EXPECT_EQ(client->settings()->config_updated_at(), absl::FromUnixMillis(7));

  // The server's own limiter counts the client's requests.
  for (int i = 0; i < 24; ++i) {
    RateLimitAnswer answer = client->CalculateRateLimits(
        {"GET", "/limited"}, "10.0.0.1", std::nullopt);
    ASSERT_TRUE(answer.from_parent);
  }
  std::optional<RateLimitResult> direct = server->rate_limiter().Check(
      {"GET", "/limited"}, "10.0.0.1", std::nullopt, *server->settings(),
      zen::Now());
  ASSERT_TRUE(direct.has_value());
  EXPECT_EQ(direct->current_requests, 25);
  RateLimitAnswer over = client->CalculateRateLimits({"GET", "/limited"},
                                                     "10.0.0.1", std::nullopt);
  ASSERT_TRUE(over.result.has_value());
  EXPECT_TRUE(over.result->throttled);

  client->RecordEvent(Event(CollectorEventType::kRequest));
  ASSERT_TRUE(client->Flush().ok());
  EXPECT_EQ(server->collector().Snapshot().requests, 1u);  // Folded at once.

  // No connection to the server was ever made.
  EXPECT_TRUE(testing::TcpSocketsOnPort(port, false).empty());
  EXPECT_EQ(server->server_stats().calls, 0u);
}

}  // namespace
}  // namespace zen
