// The agent across real processes: a parent AgentServer (inside Agent) and
// forked workers with their own AgentClient.
#include "agent/agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mutex.h"
#include "gtest/gtest.h"
#include "testing/deadline.h"
#include "testing/descriptors.h"
#include "testing/forked_child.h"
#include "testing/sanitizers.h"

namespace zen {
namespace {

using ::zen::testing::ChildOutcome;
using ::zen::testing::ForkedChild;
using ::zen::testing::StartTogether;

using ::zen::testing::In;

AgentOptions FastOptions() {
  AgentOptions options;
  options.client.polling_interval = absl::Milliseconds(100);
  options.client.polling_jitter = absl::ZeroDuration();
  options.client.heartbeat_interval = absl::Milliseconds(100);
  options.client.reconnect_delay = absl::Milliseconds(50);
  return options;
}

// Waits (bounded) until `done` holds.
template <typename F>
bool Eventually(F done, absl::Duration limit = absl::Seconds(10)) {
  const absl::Time deadline = In(limit);
  while (zen::Now() < deadline) {
    if (done()) return true;
    zen::SleepFor(absl::Milliseconds(10));
  }
  return done();
}

constexpr char kLimitedConfig[] = R"({
  "configUpdatedAt": 1,
  "endpoints": [{"method": "GET", "route": "/limited", "forceProtectionOff": false,
                 "rateLimiting": {"enabled": true, "maxRequests": 25, "windowSizeInMS": 600000}}]
})";

// Reads exactly `size` bytes from a pipe, or gives up at the deadline (a
// child that failed early never writes).
bool ReadWithin(int fd, void* out, size_t size, absl::Duration limit) {
  const absl::Time deadline = In(limit);
  size_t done = 0;
  while (done < size) {
    pollfd p{fd, POLLIN, 0};
    const int64_t ms = absl::ToInt64Milliseconds(deadline - zen::Now());
    if (ms <= 0 || ::poll(&p, 1, static_cast<int>(ms)) <= 0) return false;
    const ssize_t n = ::read(fd, static_cast<char*>(out) + done, size - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void WaitAll(std::vector<ForkedChild>& children) {
  for (auto& child : children) {
    ChildOutcome outcome = child.Wait(In(absl::Seconds(60)));
    EXPECT_TRUE(outcome.ok()) << outcome.ToString();
  }
}

TEST(AgentTest, EightWorkersTimesThousandEventsAreCountedExactly) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  auto agent = Agent::Create(FastOptions());
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
  AgentOptions options = FastOptions();
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
absl::Duration SettingsChangeReachesEveryWorker(bool watch) {
  AgentOptions options = FastOptions();
  options.client.watch_settings = watch;
  auto agent = Agent::Create(options);
  EXPECT_TRUE(agent.ok());
  if (!agent.ok()) return absl::InfiniteDuration();
  AgentServer* server = (*agent)->server();
  EXPECT_TRUE(server->UpdateConfig(R"({"configUpdatedAt": 1})").ok());
  int report[2];
  EXPECT_EQ(::pipe(report), 0);
  auto children =
      StartTogether(4, [&agent, report, watch](int) -> absl::Status {
        AgentClient* client = (*agent)->client();
        if (client == nullptr) return absl::UnavailableError("no client");
        // First settings.
        if (!Eventually([&] {
              return client->stats().config_generation.has_value();
            })) {
          return absl::DeadlineExceededError("first settings never arrived");
        }
        const int64_t first = *client->stats().config_generation;
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
        char ready = 'r';
        if (::write(report[1], &ready, 1) != 1)
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
  for (int i = 0; i < 4; ++i) {
    char c;
    if (!ReadWithin(report[0], &c, 1, absl::Seconds(15))) {
      ADD_FAILURE() << "a worker never got its first settings";
      break;
    }
  }
  if (watch) {
    EXPECT_TRUE(
        Eventually([&] { return server->settings_watches_waiting() == 4; }));
  }
  const absl::Time changed = zen::Now();
  EXPECT_TRUE(server->UpdateConfig(R"({"configUpdatedAt": 2})").ok());
  WaitAll(*children);
  ::close(report[0]);
  ::close(report[1]);
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
  auto agent = Agent::Create(FastOptions());
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

// A worker compromised before its first client() call must not hold the
// parent's listening socket: it is closed in the child at the fork.
TEST(AgentTest, WorkerHoldsNoListeningSocketBeforeItsFirstClientCall) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  auto agent = Agent::Create(FastOptions());
  ASSERT_TRUE(agent.ok());
  const uint16_t port = (*agent)->server()->port();
  const std::set<int> listening = testing::TcpSocketsOnPort(port, true);
  ASSERT_EQ(listening.size(), 1u);
  const int listen_fd = *listening.begin();
  ChildOutcome outcome = testing::RunInChild([&]() -> absl::Status {
    if (testing::IsOpen(listen_fd)) {
      return absl::InternalError("listening socket open in the worker");
    }
    if (::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC) != -1 ||
        errno != EBADF) {
      return absl::InternalError("accept on the listener did not fail EBADF");
    }
    // And the worker still gets its client afterwards.
    if ((*agent)->client() == nullptr) {
      return absl::UnavailableError("worker: no client");
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
  EXPECT_EQ(testing::TcpSocketsOnPort(port, true), listening);
}

// ~Agent must not hold its fork-guarded lock across the server's Stop(),
// which waits for every server thread: a fork() by another thread of the
// host meanwhile would wait for the whole Stop().
TEST(AgentTest, ForkIsNotHeldUpWhileTheAgentIsDestroyed) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  // Holds the server thread that announces a new connection until opened,
  // so that Stop() waits for it.
  struct Gate {
    Mutex mu;
    CondVar changed;
    bool entered ABSL_GUARDED_BY(mu) = false;
    bool open ABSL_GUARDED_BY(mu) = false;
  };
  auto gate = std::make_shared<Gate>();
  LogSink previous = SetLogSink([gate](LogLevel, absl::string_view line) {
    if (line.find("client connected") == absl::string_view::npos) return;
    MutexLock lock(&gate->mu);
    gate->entered = true;
    gate->changed.SignalAll();
    while (!gate->open) gate->changed.Wait(&gate->mu);
  });
  auto open_gate = [gate] {
    MutexLock lock(&gate->mu);
    gate->open = true;
    gate->changed.SignalAll();
  };
  auto agent = Agent::Create(FastOptions());
  ASSERT_TRUE(agent.ok());
  auto worker = ForkedChild::Start([&agent]() -> absl::Status {
    (void)(*agent)->client();
    zen::SleepFor(absl::Seconds(30));  // Killed at the end.
    return absl::OkStatus();
  });
  ASSERT_TRUE(worker.ok());
  bool entered = false;
  {
    MutexLock lock(&gate->mu);
    const absl::Time deadline = In(absl::Seconds(10));
    while (!gate->entered && gate->changed.WaitUntil(&gate->mu, deadline)) {
    }
    entered = gate->entered;
  }
  std::thread destroyer([&agent] { agent->reset(); });
  // The gate opens after 3 s at the latest, so the old code ends too.
  std::thread opener([gate, open_gate] {
    {
      MutexLock lock(&gate->mu);
      const absl::Time deadline = In(absl::Seconds(3));
      while (!gate->open && gate->changed.WaitUntil(&gate->mu, deadline)) {
      }
    }
    open_gate();
  });
  zen::SleepFor(absl::Milliseconds(200));  // ~Agent is in Stop() by now.
  const absl::Time start = zen::Now();
  auto child =
      ForkedChild::Start([]() -> absl::Status { return absl::OkStatus(); });
  const absl::Duration fork_took = zen::Now() - start;
  open_gate();
  opener.join();
  destroyer.join();
  SetLogSink(std::move(previous));
  worker->Kill(SIGKILL);
  (void)worker->Wait(In(absl::Seconds(5)));
  ASSERT_TRUE(entered) << "the worker's connection never reached the server";
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_TRUE(child->Wait(In(absl::Seconds(5))).ok());
  EXPECT_LT(fork_took, absl::Seconds(1)) << fork_took;
}

TEST(AgentTest, GrandchildGetsItsOwnConnection) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  auto agent = Agent::Create(FastOptions());
  ASSERT_TRUE(agent.ok());
  ChildOutcome outcome = testing::RunInChild([&agent]() -> absl::Status {
    AgentClient* worker_client = (*agent)->client();
    if (worker_client == nullptr)
      return absl::UnavailableError("worker: no client");
    auto grandchild =
        ForkedChild::Start([&agent, worker_client]() -> absl::Status {
          AgentClient* own = (*agent)->client();
          if (own == nullptr)
            return absl::UnavailableError("grandchild: no client");
          if (own == worker_client)
            return absl::InternalError("shares the worker's client");
          CollectorEvent event;
          event.type = CollectorEventType::kRequest;
          own->RecordEvent(event);
          return own->Flush();
        });
    if (!grandchild.ok()) return grandchild.status();
    ChildOutcome inner = grandchild->Wait(In(absl::Seconds(20)));
    if (!inner.ok()) return absl::InternalError(inner.ToString());
    // The worker's own connection still works after the grandchild left.
    CollectorEvent event;
    event.type = CollectorEventType::kRequest;
    worker_client->RecordEvent(event);
    return worker_client->Flush();
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
  EXPECT_TRUE(Eventually([&] {
    return (*agent)->server()->collector().Snapshot().requests == 2;
  }));
}

TEST(AgentTest, WorkersReconnectWhenTheServerRestartsOnTheSamePort) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  auto secret = ipc::Secret::Generate();
  ASSERT_TRUE(secret.ok());
  auto server = AgentServer::Create(&*secret);
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE((*server)->Start().ok());
  const uint16_t port = (*server)->port();
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  auto child =
      ForkedChild::Start([&secret, &server, port, go]() -> absl::Status {
        server->release()->AbandonAfterFork();
        AgentClientOptions options;
        options.port = port;
        options.reconnect_delay = absl::Milliseconds(50);
        options.polling_jitter = absl::ZeroDuration();
        auto client = AgentClient::Create(&*secret, options);
        if (!client.ok()) return client.status();
        CollectorEvent event;
        event.type = CollectorEventType::kRequest;
        (*client)->RecordEvent(event);
        if (absl::Status s = (*client)->Flush(); !s.ok()) return s;
        char c;
        if (::read(go[0], &c, 1) != 1) return absl::InternalError("pipe");
        // The server was restarted meanwhile: events are kept and go through
        // once the client is back.
        (*client)->RecordEvent(event);
        if (!Eventually([&] { return (*client)->Flush().ok(); })) {
          return absl::UnavailableError("never reconnected");
        }
        return absl::OkStatus();
      });
  ASSERT_TRUE(child.ok());
  ASSERT_TRUE(Eventually(
      [&] { return (*server)->collector().Snapshot().requests == 1; }));
  (*server)->Stop();
  server->reset();
  AgentServerOptions options;
  options.server.listener.port = port;
  auto again = AgentServer::Create(&*secret, options);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE((*again)->Start().ok());
  ASSERT_EQ(::write(go[1], "g", 1), 1);
  ChildOutcome outcome = child->Wait(In(absl::Seconds(30)));
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
  // Acknowledged before it is folded: wait for the fold.
  EXPECT_TRUE(Eventually(
      [&] { return (*again)->collector().Snapshot().requests == 1; }));
  ::close(go[0]);
  ::close(go[1]);
}

TEST(AgentTest, HundredForksWhileTrafficFlowsNeverDeadlock) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  if (testing::kAddressSanitizer) GTEST_SKIP() << testing::kAsanForkSkipReason;
  auto agent = Agent::Create(FastOptions());
  ASSERT_TRUE(agent.ok());
  // Traffic in the parent: a worker hammering the server, so the parent's
  // server threads are busy at every fork below.
  auto busy = ForkedChild::Start([&agent]() -> absl::Status {
    AgentClient* client = (*agent)->client();
    if (client == nullptr) return absl::UnavailableError("no client");
    const absl::Time until = In(absl::Seconds(60));
    while (zen::Now() < until) {
      (void)client->CalculateRateLimits({"GET", "/x"}, "1.2.3.4", std::nullopt);
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(busy.ok());
  zen::SleepFor(absl::Milliseconds(100));
  int failures = 0;
  for (int i = 0; i < 100; ++i) {
    ChildOutcome outcome = testing::RunInChild(
        [&agent]() -> absl::Status {
          AgentClient* client = (*agent)->client();
          if (client == nullptr) return absl::UnavailableError("no client");
          RateLimitAnswer a = client->CalculateRateLimits(
              {"GET", "/x"}, "5.6.7.8", std::nullopt);
          return a.from_parent ? absl::OkStatus()
                               : absl::UnavailableError("fallback");
        },
        absl::Seconds(10));
    if (!outcome.ok()) {
      ++failures;
      ADD_FAILURE() << "fork " << i << ": " << outcome.ToString();
      if (failures > 3) break;
    }
  }
  busy->Kill(SIGKILL);
  (void)busy->Wait(In(absl::Seconds(5)));
}

TEST(AgentTest, WorkerKilledMidCallCostsTheParentNothing) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  auto agent = Agent::Create(FastOptions());
  ASSERT_TRUE(agent.ok());
  // Let the server settle, then measure.
  zen::SleepFor(absl::Milliseconds(50));
  const size_t baseline = testing::OpenFds().size();
  for (int round = 0; round < 5; ++round) {
    auto child = ForkedChild::Start([&agent]() -> absl::Status {
      AgentClient* client = (*agent)->client();
      if (client == nullptr) return absl::UnavailableError("no client");
      for (;;) {
        (void)client->CalculateRateLimits({"GET", "/x"}, "1.1.1.1",
                                          std::nullopt);
      }
    });
    ASSERT_TRUE(child.ok());
    zen::SleepFor(absl::Milliseconds(100));
    child->Kill(SIGKILL);
    (void)child->Wait(In(absl::Seconds(5)));
  }
  EXPECT_TRUE(Eventually([&] { return testing::OpenFds().size() <= baseline; }))
      << testing::OpenFds().size() << " > " << baseline;
  // And the server still serves.
  auto check = testing::RunInChild([&agent]() -> absl::Status {
    AgentClient* client = (*agent)->client();
    return client != nullptr ? client->PollSettings()
                             : absl::UnavailableError("no client");
  });
  EXPECT_TRUE(check.ok()) << check.ToString();
}

TEST(AgentTest, ExecedChildHasNoSecretAndNoInheritedSockets) {
  const std::set<int> before = testing::OpenFds();
  auto agent = Agent::Create(FastOptions());
  ASSERT_TRUE(agent.ok());
  std::set<int> ours;
  for (int fd : testing::OpenFds()) {
    if (!before.count(fd)) ours.insert(fd);
  }
  ASSERT_GE(ours.size(), 2u);  // The listening socket and its wake-up eventfd.
  absl::StatusOr<std::set<int>> fds = testing::FdsSurvivingExec();
  ASSERT_TRUE(fds.ok()) << fds.status();
  // None of the agent's descriptors survive exec. The secret lived in
  // process memory only, which exec replaced: the new image has no way to
  // authenticate.
  for (int fd : ours)
    EXPECT_EQ(fds->count(fd), 0u) << "fd " << fd << " survived exec";
}

}  // namespace
}  // namespace zen
