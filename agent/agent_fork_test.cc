// The agent across real processes: what fork() does to it. Sockets and
// descriptors a worker must not hold, forks during teardown and traffic,
// grandchildren, a restarted server, killed and exec'ed children.
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mutex.h"
#include "gtest/gtest.h"
#include "testing/agent/agent_test_util.h"
#include "testing/deadline.h"
#include "testing/descriptors.h"
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

// A worker compromised before its first client() call must not hold the
// parent's listening socket: it is closed in the child at the fork.
TEST(AgentTest, WorkerHoldsNoListeningSocketBeforeItsFirstClientCall) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  auto agent = Agent::Create(FastAgentOptions());
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
  auto agent = Agent::Create(FastAgentOptions());
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
  auto agent = Agent::Create(FastAgentOptions());
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
  int flushed[2];
  ASSERT_EQ(::pipe(flushed), 0);
  auto child = ForkedChild::Start(
      [&secret, &server, port, go, flushed]() -> absl::Status {
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
        if (::write(flushed[1], "f", 1) != 1) {
          return absl::InternalError("pipe");
        }
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
  // Only the child writes; without our copy of the write end, a child that
  // exits before writing ends the read below at once (end of file).
  ::close(flushed[1]);
  ASSERT_TRUE(child.ok());
  // Stop the server only once the child's first Flush() has returned. The
  // event being folded is not enough: Flush() goes on with a second call
  // (report_metrics), and a Stop() during it fails the Flush() even though
  // the events were acknowledged.
  char f;
  if (!ReadWithin(flushed[0], &f, 1, absl::Seconds(10))) {
    ChildOutcome early = child->Wait(In(absl::Seconds(5)));
    FAIL() << "the first flush did not end: " << early.ToString();
  }
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
  ::close(flushed[0]);
}

TEST(AgentTest, HundredForksWhileTrafficFlowsNeverDeadlock) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  if (testing::kAddressSanitizer) GTEST_SKIP() << testing::kAsanForkSkipReason;
  auto agent = Agent::Create(FastAgentOptions());
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
  auto agent = Agent::Create(FastAgentOptions());
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
  auto agent = Agent::Create(FastAgentOptions());
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
