// A worker whose parent died: real processes. Each test runs in a driver
// process (a forked child of the test) that makes itself a child subreaper,
// so the workers of the parent it kills are reparented to it and it can reap
// them. Every process bounds its own life, and the driver reaps everything.
#include "agent/parent_death.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/agent.h"
#include "base/clock.h"
#include "base/log.h"
#include "gtest/gtest.h"
#include "testing/forked_child.h"
#include "testing/sanitizers.h"

namespace zen {
namespace {

using ::zen::testing::ChildOutcome;
using ::zen::testing::ForkedChild;

absl::Time In(absl::Duration d) { return zen::Now() + d; }

// How soon a worker must notice its parent's death.
constexpr absl::Duration kNoticeBound = absl::Seconds(2);

// What a worker tells the driver, in one pipe write (under PIPE_BUF, so
// workers' records never interleave).
struct WorkerReport {
  pid_t pid = 0;
  int32_t ready = 0;  // 1: connected and working; 0: the final report.
  int64_t noticed_unix_ms = 0;
  int32_t callbacks = 0;
  int32_t log_lines = 0;
  char error[128] = {};
};

// Per process: each worker has its own copy after the fork.
std::atomic<int> g_callbacks{0};
std::atomic<int64_t> g_noticed_unix_ms{0};
std::atomic<int> g_log_lines{0};

void OnParentExit() {
  if (g_callbacks.fetch_add(1) == 0) {
    g_noticed_unix_ms.store(absl::ToUnixMillis(zen::Now()));
  }
}

void CountLogLines() {
  SetLogSink([](LogLevel, absl::string_view) { g_log_lines.fetch_add(1); });
}

AgentOptions FastOptions() {
  AgentOptions options;
  options.client.polling_interval = absl::Milliseconds(100);
  options.client.polling_jitter = absl::ZeroDuration();
  options.client.heartbeat_interval = absl::Milliseconds(100);
  options.client.reconnect_delay = absl::Milliseconds(50);
  options.client.on_parent_exit = &OnParentExit;
  return options;
}

void Send(int fd, WorkerReport report) {
  report.pid = ::getpid();
  ssize_t ignored = ::write(fd, &report, sizeof(report));
  (void)ignored;
}

void SendError(int fd, const std::string& text) {
  WorkerReport report;
  std::strncpy(report.error, text.c_str(), sizeof(report.error) - 1);
  Send(fd, report);
}

// Reads one report, or gives up at the deadline.
bool ReadReport(int fd, WorkerReport* report, absl::Time deadline) {
  size_t done = 0;
  auto* out = reinterpret_cast<char*>(report);
  while (done < sizeof(*report)) {
    pollfd p{fd, POLLIN, 0};
    const int64_t ms = absl::ToInt64Milliseconds(deadline - zen::Now());
    if (ms <= 0 || ::poll(&p, 1, static_cast<int>(ms)) <= 0) return false;
    const ssize_t n = ::read(fd, out + done, sizeof(*report) - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// How a reparented worker ended: reaped by pid, killed at the deadline.
struct Ended {
  bool killed_at_deadline = false;
  int exit_code = -1;
  int term_signal = 0;
  absl::Time when;
};

Ended ReapWithin(pid_t pid, absl::Time deadline) {
  Ended ended;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return ended;
    if (zen::Now() >= deadline) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      ended.killed_at_deadline = true;
      break;
    }
    ::poll(nullptr, 0, 5);
  }
  ended.when = zen::Now();
  if (WIFEXITED(status)) ended.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) ended.term_signal = WTERMSIG(status);
  return ended;
}

absl::Status BecomeSubreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    return absl::InternalError("PR_SET_CHILD_SUBREAPER failed");
  }
  return absl::OkStatus();
}

// The parent: creates the Agent, forks `workers` workers running
// `worker(agent, index)`, then waits to be killed (60 s at most).
absl::StatusOr<ForkedChild> StartParent(
    AgentOptions options, int workers,
    std::function<void(Agent*, int)> worker) {
  return ForkedChild::Start([options, workers, worker]() -> absl::Status {
    absl::StatusOr<std::unique_ptr<Agent>> agent = Agent::Create(options);
    if (!agent.ok()) return agent.status();
    Agent* shared = agent->get();
    absl::StatusOr<std::vector<ForkedChild>> children =
        testing::StartTogether(workers, [shared, worker](int i) {
          worker(shared, i);
          return absl::OkStatus();
        });
    if (!children.ok()) return children.status();
    zen::SleepFor(absl::Seconds(60));
    return absl::DeadlineExceededError("the parent was never killed");
  });
}

// Kills the parent once every worker said it is ready; returns the workers'
// pids and the time of the kill.
absl::Status KillParentWhenReady(ForkedChild* parent, int workers, int fd,
                                 std::vector<pid_t>* pids,
                                 absl::Time* killed_at) {
  for (int i = 0; i < workers; ++i) {
    WorkerReport report;
    if (!ReadReport(fd, &report, In(absl::Seconds(20)))) {
      parent->Kill(SIGKILL);
      return absl::DeadlineExceededError("a worker never got ready");
    }
    if (report.error[0] != '\0') {
      parent->Kill(SIGKILL);
      return absl::InternalError(absl::StrCat("worker: ", report.error));
    }
    pids->push_back(report.pid);
  }
  *killed_at = zen::Now();
  parent->Kill(SIGKILL);
  (void)parent->Wait(In(absl::Seconds(5)));
  return absl::OkStatus();
}

// One worker of the traffic test. Traffic workers keep calling every method
// from two threads; idle ones only wait.
void TrafficWorker(Agent* agent, int index, int fd) {
  CountLogLines();
  AgentClient* client = agent->client();
  if (client == nullptr) return SendError(fd, "no client");
  if (absl::Status s = client->PollSettings(); !s.ok()) {
    return SendError(fd, s.ToString());
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  if (index % 2 == 0) {
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([client, &stop] {
        while (!stop.load()) {
          (void)client->CalculateRateLimits({"GET", "/x"}, "10.0.0.1",
                                            std::nullopt);
          (void)client->RecordAttackWave("10.0.0.2", "GET", "/.env");
          (void)client->PollSettings();
          CollectorEvent event;
          event.type = CollectorEventType::kRequest;
          client->RecordEvent(event);
          zen::SleepFor(absl::Milliseconds(1));
        }
      });
    }
  }
  g_log_lines.store(0);  // Counted from here on: the steady state and after.
  WorkerReport ready;
  ready.ready = 1;
  Send(fd, ready);
  const absl::Time give_up = In(absl::Seconds(15));
  while (g_callbacks.load() == 0 && zen::Now() < give_up) {
    zen::SleepFor(absl::Milliseconds(5));
  }
  std::string error;
  if (g_callbacks.load() == 0) error = "the parent's exit was never noticed";
  if (error.empty() && client->parent_alive()) error = "parent_alive() true";
  if (error.empty() && agent->parent_alive()) error = "Agent: parent alive";
  if (error.empty() && client->connected()) error = "still connected";
  // Calls fail fast now, and say why.
  const absl::Time start = zen::Now();
  const absl::Status polled = client->PollSettings();
  const absl::Status flushed = client->Flush();
  const RateLimitAnswer limits =
      client->CalculateRateLimits({"GET", "/x"}, "10.0.0.1", std::nullopt);
  const AttackWaveAnswer wave = client->RecordAttackWave("1.2.3.4", "GET", "/");
  const absl::Duration took = zen::Now() - start;
  if (error.empty() && (!absl::IsUnavailable(polled) ||
                        polled.message().find("exited") == std::string::npos)) {
    error = absl::StrCat("poll: ", polled.ToString());
  }
  if (error.empty() && !absl::IsUnavailable(flushed)) {
    error = absl::StrCat("flush: ", flushed.ToString());
  }
  if (error.empty() && (limits.from_parent || wave.from_parent)) {
    error = "an answer claims to come from the parent";
  }
  if (error.empty() && took > absl::Milliseconds(200)) {
    error =
        absl::StrCat("calls did not fail fast: ", absl::FormatDuration(took));
  }
  // A window of traffic against the dead parent: log lines stay few.
  zen::SleepFor(absl::Seconds(2));
  stop.store(true);
  for (std::thread& t : threads) t.join();
  WorkerReport report;
  report.noticed_unix_ms = g_noticed_unix_ms.load();
  report.callbacks = g_callbacks.load();
  report.log_lines = g_log_lines.load();
  std::strncpy(report.error, error.c_str(), sizeof(report.error) - 1);
  Send(fd, report);
}

TEST(ParentDeathTest, WorkersUnderTrafficNoticeFailFastAndLogLittle) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  constexpr int kWorkers = 4;
  ChildOutcome outcome = testing::RunInChild([]() -> absl::Status {
    if (absl::Status s = BecomeSubreaper(); !s.ok()) return s;
    int fds[2];
    if (::pipe(fds) != 0) return absl::InternalError("pipe");
    const int out = fds[1];
    absl::StatusOr<ForkedChild> parent = StartParent(
        FastOptions(), kWorkers,
        [out](Agent* agent, int i) { TrafficWorker(agent, i, out); });
    if (!parent.ok()) return parent.status();
    std::vector<pid_t> pids;
    absl::Time killed_at;
    absl::Status killed =
        KillParentWhenReady(&*parent, kWorkers, fds[0], &pids, &killed_at);
    std::string errors;
    for (size_t i = 0; killed.ok() && i < pids.size(); ++i) {
      WorkerReport report;
      if (!ReadReport(fds[0], &report, In(absl::Seconds(20)))) {
        errors += "a worker sent no final report; ";
        break;
      }
      const absl::Duration noticed_after =
          absl::FromUnixMillis(report.noticed_unix_ms) - killed_at;
      std::fprintf(stderr, "worker %d: noticed after %s, %d log lines\n",
                   static_cast<int>(report.pid),
                   absl::FormatDuration(noticed_after).c_str(),
                   report.log_lines);
      if (report.error[0] != '\0') {
        absl::StrAppend(&errors, "worker ", report.pid, ": ", report.error,
                        "; ");
      } else if (noticed_after > kNoticeBound) {
        absl::StrAppend(&errors, "worker ", report.pid, " noticed after ",
                        absl::FormatDuration(noticed_after), "; ");
      } else if (report.callbacks != 1) {
        absl::StrAppend(&errors, "worker ", report.pid, ": callback fired ",
                        report.callbacks, " times; ");
      } else if (report.log_lines > 10) {
        absl::StrAppend(&errors, "worker ", report.pid, " logged ",
                        report.log_lines, " lines; ");
      }
    }
    for (pid_t pid : pids) {
      Ended ended = ReapWithin(pid, In(absl::Seconds(10)));
      if (ended.killed_at_deadline) errors += "a worker did not exit; ";
    }
    ::close(fds[0]);
    ::close(fds[1]);
    if (!killed.ok()) return killed;
    if (!errors.empty()) return absl::InternalError(errors);
    return absl::OkStatus();
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
}

// A worker that never reached its parent before it died: client() returns
// nullptr at once, the exit is reported once, retries are spaced out and
// logged rarely.
TEST(ParentDeathTest, WorkerThatNeverConnectedReportsOnceAndLogsLittle) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  constexpr int kWorkers = 2;
  ChildOutcome outcome = testing::RunInChild([]() -> absl::Status {
    if (absl::Status s = BecomeSubreaper(); !s.ok()) return s;
    int fds[2];
    if (::pipe(fds) != 0) return absl::InternalError("pipe");
    const int out = fds[1];
    absl::StatusOr<ForkedChild> parent =
        StartParent(FastOptions(), kWorkers, [out](Agent* agent, int) {
          CountLogLines();
          WorkerReport ready;
          ready.ready = 1;
          Send(out, ready);
          const absl::Time give_up = In(absl::Seconds(15));
          while (agent->parent_alive() && zen::Now() < give_up) {
            zen::SleepFor(absl::Milliseconds(5));
          }
          std::string error;
          absl::Duration slowest;
          const absl::Time until = In(absl::Seconds(2));
          while (zen::Now() < until) {
            const absl::Time start = zen::Now();
            if (agent->client() != nullptr) error = "a client without parent";
            slowest = std::max(slowest, zen::Now() - start);
            zen::SleepFor(absl::Milliseconds(1));
          }
          if (slowest > absl::Milliseconds(200)) {
            error =
                absl::StrCat("client() took ", absl::FormatDuration(slowest));
          }
          WorkerReport report;
          report.callbacks = g_callbacks.load();
          report.log_lines = g_log_lines.load();
          std::strncpy(report.error, error.c_str(), sizeof(report.error) - 1);
          Send(out, report);
        });
    if (!parent.ok()) return parent.status();
    std::vector<pid_t> pids;
    absl::Time killed_at;
    absl::Status killed =
        KillParentWhenReady(&*parent, kWorkers, fds[0], &pids, &killed_at);
    std::string errors;
    for (size_t i = 0; killed.ok() && i < pids.size(); ++i) {
      WorkerReport report;
      if (!ReadReport(fds[0], &report, In(absl::Seconds(20)))) {
        errors += "a worker sent no final report; ";
        break;
      }
      if (report.error[0] != '\0') {
        absl::StrAppend(&errors, report.error, "; ");
      } else if (report.callbacks != 1) {
        absl::StrAppend(&errors, "callback fired ", report.callbacks,
                        " times; ");
      } else if (report.log_lines > 3) {
        absl::StrAppend(&errors, "logged ", report.log_lines, " lines; ");
      }
    }
    for (pid_t pid : pids) (void)ReapWithin(pid, In(absl::Seconds(10)));
    ::close(fds[0]);
    ::close(fds[1]);
    if (!killed.ok()) return killed;
    if (!errors.empty()) return absl::InternalError(errors);
    return absl::OkStatus();
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
}

TEST(ParentDeathTest, ExitWithParentTerminatesWorkersWhenTheParentIsKilled) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  constexpr int kWorkers = 3;
  ChildOutcome outcome = testing::RunInChild([]() -> absl::Status {
    if (absl::Status s = BecomeSubreaper(); !s.ok()) return s;
    int fds[2];
    if (::pipe(fds) != 0) return absl::InternalError("pipe");
    const int out = fds[1];
    AgentOptions options = FastOptions();
    options.exit_with_parent = true;
    absl::StatusOr<ForkedChild> parent =
        StartParent(options, kWorkers, [out](Agent* agent, int) {
          WorkerReport ready;
          ready.ready = 1;
          if (agent->client() == nullptr) {
            return SendError(out, "no client");
          }
          Send(out, ready);
          zen::SleepFor(absl::Seconds(30));  // Ended by the signal.
        });
    if (!parent.ok()) return parent.status();
    std::vector<pid_t> pids;
    absl::Time killed_at;
    absl::Status killed =
        KillParentWhenReady(&*parent, kWorkers, fds[0], &pids, &killed_at);
    std::string errors;
    for (pid_t pid : pids) {
      Ended ended = ReapWithin(pid, killed_at + absl::Seconds(10));
      if (ended.term_signal != SIGTERM) {
        absl::StrAppend(&errors, "worker ", pid, " ended with signal ",
                        ended.term_signal, " exit ", ended.exit_code, "; ");
      } else if (ended.when - killed_at > kNoticeBound) {
        absl::StrAppend(&errors, "worker ", pid, " ended after ",
                        absl::FormatDuration(ended.when - killed_at), "; ");
      }
    }
    ::close(fds[0]);
    ::close(fds[1]);
    if (!killed.ok()) return killed;
    if (!errors.empty()) return absl::InternalError(errors);
    return absl::OkStatus();
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
}

// The race exit_with_parent closes: the parent is already gone when the
// child arms the signal, so the kernel will never send it; the child must
// raise it itself. (The fork handler calls ArmParentDeathSignal with the
// forking process's pid; here the child calls it after making sure its
// parent has exited.)
TEST(ParentDeathTest, ParentDeadBeforeTheSignalIsArmedStillEndsTheChild) {
  ChildOutcome outcome = testing::RunInChild([]() -> absl::Status {
    if (absl::Status s = BecomeSubreaper(); !s.ok()) return s;
    int fds[2];
    if (::pipe(fds) != 0) return absl::InternalError("pipe");
    const pid_t parent = ::fork();
    if (parent < 0) return absl::InternalError("fork");
    if (parent == 0) {
      const pid_t me = ::getpid();
      const pid_t child = ::fork();
      if (child == 0) {
        const absl::Time give_up = In(absl::Seconds(10));
        while (::getppid() == me && zen::Now() < give_up) {
          ::poll(nullptr, 0, 1);
        }
        if (::getppid() == me) ::_exit(3);
        ArmParentDeathSignal(me, SIGTERM);
        ::_exit(0);  // Not reached: the signal ended the child.
      }
      ssize_t ignored = ::write(fds[1], &child, sizeof(child));
      (void)ignored;
      ::_exit(0);  // Dies before the child arms the signal.
    }
    pid_t child = 0;
    const bool got = ::read(fds[0], &child, sizeof(child)) == sizeof(child);
    Ended parent_end = ReapWithin(parent, In(absl::Seconds(10)));
    if (!got) return absl::InternalError("no child pid");
    Ended ended = ReapWithin(child, In(absl::Seconds(10)));
    ::close(fds[0]);
    ::close(fds[1]);
    if (parent_end.exit_code != 0) return absl::InternalError("parent");
    if (ended.term_signal != SIGTERM) {
      return absl::InternalError(absl::StrCat("child ended with signal ",
                                              ended.term_signal, " exit ",
                                              ended.exit_code));
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
}

// With the parent alive, arming changes nothing until it exits.
TEST(ParentDeathTest, ArmingWithTheParentAliveReturns) {
  ChildOutcome outcome = testing::RunInChild([]() -> absl::Status {
    ArmParentDeathSignal(::getppid(), SIGTERM);
    return absl::OkStatus();
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
}

// Once the parent is known dead, retries start after a full delay, double up
// to the cap, and each is spread over +-25%.
TEST(ParentDeathTest, RetryDelaysDoubleWithJitterUpToTheCap) {
  ipc::ReconnectPolicy policy =
      DeadParentRetryPolicy(absl::Milliseconds(100), absl::Seconds(1));
  const int64_t nominal_ms[] = {100, 200, 400, 800, 1000, 1000, 1000};
  bool spread = false;
  for (int64_t nominal : nominal_ms) {
    const int64_t ms = absl::ToInt64Milliseconds(policy.NextDelay());
    EXPECT_GE(ms, nominal * 3 / 4) << nominal;
    EXPECT_LE(ms, nominal * 5 / 4) << nominal;
    if (ms != nominal) spread = true;
  }
  EXPECT_TRUE(spread) << "no jitter";
}

}  // namespace
}  // namespace zen
