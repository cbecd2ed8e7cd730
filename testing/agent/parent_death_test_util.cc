#include "testing/agent/parent_death_test_util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log.h"
#include "testing/agent/agent_test_util.h"
#include "testing/deadline.h"
#include "testing/forked_child.h"

namespace zen::testing {
namespace {

// Per process: each worker has its own copy after the fork.
std::atomic<int> g_callbacks{0};
std::atomic<int64_t> g_noticed_unix_ms{0};
std::atomic<int> g_log_lines{0};

void OnParentExit() {
  if (g_callbacks.fetch_add(1) == 0) {
    g_noticed_unix_ms.store(absl::ToUnixMillis(zen::Now()));
  }
}

void Send(int fd, WorkerReport report) {
  report.pid = ::getpid();
  ssize_t ignored = ::write(fd, &report, sizeof(report));
  (void)ignored;
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
        StartTogether(workers, [shared, worker](int i) {
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
    if (!ReadReport(fd, &report)) {
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

}  // namespace

AgentOptions ParentDeathOptions() {
  AgentOptions options = FastAgentOptions();
  options.client.on_parent_exit = &OnParentExit;
  return options;
}

int ParentExitCallbacks() { return g_callbacks.load(); }
int64_t ParentExitNoticedUnixMs() { return g_noticed_unix_ms.load(); }

void CountLogLines() {
  SetLogSink([](LogLevel, absl::string_view) { g_log_lines.fetch_add(1); });
}

void ResetLogLines() { g_log_lines.store(0); }

int LogLines() { return g_log_lines.load(); }

void SendReady(int fd) {
  WorkerReport ready;
  ready.ready = 1;
  Send(fd, ready);
}

void SendError(int fd, const std::string& text) {
  WorkerReport report;
  std::strncpy(report.error, text.c_str(), sizeof(report.error) - 1);
  Send(fd, report);
}

void SendFinal(int fd, const std::string& error) {
  WorkerReport report;
  report.noticed_unix_ms = g_noticed_unix_ms.load();
  report.callbacks = g_callbacks.load();
  report.log_lines = g_log_lines.load();
  std::strncpy(report.error, error.c_str(), sizeof(report.error) - 1);
  Send(fd, report);
}

bool ReadReport(int fd, WorkerReport* report) {
  return ReadWithin(fd, report, sizeof(*report), absl::Seconds(20));
}

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

absl::Status DriveParentDeath(
    AgentOptions options, int workers,
    std::function<void(Agent* agent, int index, int fd)> worker,
    std::function<std::string(const ParentKilled&)> check) {
  if (absl::Status s = BecomeSubreaper(); !s.ok()) return s;
  int fds[2];
  if (::pipe(fds) != 0) return absl::InternalError("pipe");
  const int out = fds[1];
  absl::StatusOr<ForkedChild> parent = StartParent(
      std::move(options), workers,
      [out, worker](Agent* agent, int i) { worker(agent, i, out); });
  if (!parent.ok()) return parent.status();
  ParentKilled killed;
  killed.fd = fds[0];
  absl::Status ready =
      KillParentWhenReady(&*parent, workers, fds[0], &killed.pids, &killed.at);
  killed.all_ready = ready.ok();
  const std::string errors = check(killed);
  ::close(fds[0]);
  ::close(fds[1]);
  if (!ready.ok()) return ready;
  if (!errors.empty()) return absl::InternalError(errors);
  return absl::OkStatus();
}

}  // namespace zen::testing
