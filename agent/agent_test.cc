// The agent across real processes: a parent AgentServer (inside Agent) and
// forked workers with their own AgentClient: events, settings and rate
// limits shared across workers.
#include "agent/agent.h"

#include <unistd.h>

#include <string>
#include <vector>

#include "base/clock.h"
#include "gtest/gtest.h"
#include "testing/agent/agent_test_util.h"
#include "testing/deadline.h"
#include "testing/forked_child.h"
#include "testing/sanitizers.h"

namespace zen {
namespace {

using ::zen::testing::ChildOutcome;
using ::zen::testing::Eventually;
using ::zen::testing::FastAgentOptions;
using ::zen::testing::ForkedChild;
using ::zen::testing::In;
using ::zen::testing::ReadWithin;
using ::zen::testing::StartTogether;
using ::zen::testing::WaitAll;

constexpr char kLimitedConfig[] = R"({
  "configUpdatedAt": 1,
  "endpoints": [{"method": "GET", "route": "/limited", "forceProtectionOff": false,
                 "rateLimiting": {"enabled": true, "maxRequests": 25, "windowSizeInMS": 600000}}]
})";

TEST(AgentTest, EightWorkersTimesThousandEventsAreCountedExactly) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  auto agent = Agent::Create(FastAgentOptions());
  ASSERT_TRUE(agent.ok()) << agent.status();
  // The parent has its in-process client; every worker drops it at the fork.
  ASSERT_NE((*agent)->client(), nullptr);
  auto children = StartTogether(8, [&agent](int) -> absl::Status {
    AgentClient* client = (*agent)->client();
    if (client == nullptr) return absl::UnavailableError("no client");
    for (int i = 0; i < 1000; ++i) {
      CollectorEvent event;
      event.type = CollectorEventType::kRequest;
      client->RecordEvent(event);
    }
    return client->Flush();
  });
  ASSERT_TRUE(children.ok());
  WaitAll(*children);
  AgentServer* server = (*agent)->server();
  EXPECT_TRUE(Eventually([&] {
    return server->collector().Snapshot().requests == 8000;
  })) << server->collector().Snapshot().requests;
}

TEST(AgentTest, WorkersConnectOverTheUnixTransport) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  AgentOptions options = FastAgentOptions();
  options.server.server.listener.transport = ipc::Transport::kUnix;
  options.server.server.listener.require_descendant = true;
  auto agent = Agent::Create(options);
  ASSERT_TRUE(agent.ok()) << agent.status();
  ASSERT_FALSE((*agent)->server()->unix_path().empty());
  auto children = StartTogether(2, [&agent](int) -> absl::Status {
    AgentClient* client = (*agent)->client();
    if (client == nullptr) return absl::UnavailableError("no client");
    CollectorEvent event;
    event.type = CollectorEventType::kRequest;
    client->RecordEvent(event);
    return client->Flush();
  });
  ASSERT_TRUE(children.ok());
  WaitAll(*children);
  AgentServer* server = (*agent)->server();
  EXPECT_TRUE(
      Eventually([&] { return server->collector().Snapshot().requests == 2; }));
}

// Four workers get the first settings, then one change; `watch` chooses
// watch_settings (the default) or polling every 100 ms (as with a
// reference parent). Returns how long the last worker took to apply the
// change.
//
// Each step waits for a state the test can see, never for time to pass: a
// worker's follow-up watch (after the one that brought the first settings)
// may start well after those settings were applied on a loaded machine, so
// the quiet window starts only once the parent sees every worker's watch
// parked (`go` pipe), and the change is made only after every worker has
// checked its quiet window (`report` pipe, twice).
absl::Duration SettingsChangeReachesEveryWorker(bool watch) {
  AgentOptions options = FastAgentOptions();
  options.client.watch_settings = watch;
  auto agent = Agent::Create(options);
  EXPECT_TRUE(agent.ok());
  if (!agent.ok()) return absl::InfiniteDuration();
  AgentServer* server = (*agent)->server();
  EXPECT_TRUE(server->UpdateConfig(R"({"configUpdatedAt": 1})").ok());
  int report[2];
  int go[2];
  EXPECT_EQ(::pipe(report), 0);
  EXPECT_EQ(::pipe(go), 0);
  auto children =
      StartTogether(4, [&agent, report, go, watch](int) -> absl::Status {
        AgentClient* client = (*agent)->client();
        if (client == nullptr) return absl::UnavailableError("no client");
        // First settings.
        if (!Eventually([&] {
              return client->stats().config_generation.has_value();
            })) {
          return absl::DeadlineExceededError("first settings never arrived");
        }
        const int64_t first = *client->stats().config_generation;
        char step = 'r';
        if (::write(report[1], &step, 1) != 1)
          return absl::InternalError("pipe");
        if (!ReadWithin(go[0], &step, 1, absl::Seconds(30))) {
          return absl::DeadlineExceededError("the parent never said go");
        }
        // Nothing changes: nothing is applied again, while polls go on (or one
        // watch stays outstanding, with no poll at all).
        const AgentClientStats before = client->stats();
        zen::SleepFor(absl::Milliseconds(350));
        const AgentClientStats after = client->stats();
        if (after.settings_applied != before.settings_applied) {
          return absl::InternalError("an unchanged answer applied settings");
        }
        if (watch) {
          if (after.settings_polls != 0) {
            return absl::InternalError("polled while watching");
          }
          if (after.settings_watches != before.settings_watches) {
            return absl::InternalError(
                "a watch came back with nothing changed");
          }
        } else if (after.settings_polls < before.settings_polls + 2) {
          return absl::InternalError("polling stalled");
        }
        step = 'q';
        if (::write(report[1], &step, 1) != 1)
          return absl::InternalError("pipe");
        // The change.
        if (!Eventually([&] {
              return client->stats().config_generation == first + 1;
            })) {
          return absl::DeadlineExceededError("the change never arrived");
        }
        if (client->settings()->config_updated_at() !=
            absl::FromUnixMillis(2)) {
          return absl::InternalError("wrong settings applied");
        }
        return absl::OkStatus();
      });
  EXPECT_TRUE(children.ok());
  if (!children.ok()) return absl::InfiniteDuration();
  auto read_from_every_worker = [&](const char* what) {
    for (int i = 0; i < 4; ++i) {
      char c;
      if (!ReadWithin(report[0], &c, 1, absl::Seconds(30))) {
        ADD_FAILURE() << "a worker never " << what;
        return false;
      }
    }
    return true;
  };
  if (read_from_every_worker("got its first settings")) {
    if (watch) {
      EXPECT_TRUE(
          Eventually([&] { return server->settings_watches_waiting() == 4; }));
    }
    const char go_step[4] = {'g', 'g', 'g', 'g'};
    EXPECT_EQ(::write(go[1], go_step, sizeof(go_step)),
              static_cast<ssize_t>(sizeof(go_step)));
    read_from_every_worker("checked its quiet window");
  }
  const absl::Time changed = zen::Now();
  EXPECT_TRUE(server->UpdateConfig(R"({"configUpdatedAt": 2})").ok());
  WaitAll(*children);
  for (int fd : {report[0], report[1], go[0], go[1]}) ::close(fd);
  return zen::Now() - changed;
}

TEST(AgentTest, SettingsChangesReachEveryWatchingWorker) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  // Bounded generously: a sanitizer build on a loaded machine. The figures
  // are bench/settings_propagation's.
  EXPECT_LT(SettingsChangeReachesEveryWorker(/*watch=*/true), absl::Seconds(2));
}

TEST(AgentTest, SettingsChangesReachEveryWorkerWithinOnePollingInterval) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  // Every worker had it within (about) one 100 ms polling interval.
  EXPECT_LT(SettingsChangeReachesEveryWorker(/*watch=*/false),
            absl::Seconds(2));
}

TEST(AgentTest, RateLimitAdmitsExactlyNAcrossAllWorkers) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  auto agent = Agent::Create(FastAgentOptions());
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE((*agent)->server()->UpdateConfig(kLimitedConfig).ok());
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  auto children = StartTogether(4, [&agent, report](int) -> absl::Status {
    AgentClient* client = (*agent)->client();
    if (client == nullptr) return absl::UnavailableError("no client");
    int admitted = 0;
    for (int i = 0; i < 20; ++i) {
      RateLimitAnswer answer = client->CalculateRateLimits(
          {"GET", "/limited"}, "10.0.0.1", std::nullopt);
      if (!answer.from_parent) return absl::UnavailableError("fallback used");
      if (!answer.result) return absl::InternalError("no limit applied");
      if (!answer.result->throttled) ++admitted;
    }
    if (::write(report[1], &admitted, sizeof(admitted)) != sizeof(admitted)) {
      return absl::InternalError("pipe");
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(children.ok());
  WaitAll(*children);
  int total = 0;
  for (int i = 0; i < 4; ++i) {
    int admitted = 0;
    ASSERT_TRUE(
        ReadWithin(report[0], &admitted, sizeof(admitted), absl::Seconds(5)));
    total += admitted;
  }
  EXPECT_EQ(total,
            25);  // 80 requests, limit 25 per window, all workers together.
  ::close(report[0]);
  ::close(report[1]);
}

}  // namespace
}  // namespace zen
