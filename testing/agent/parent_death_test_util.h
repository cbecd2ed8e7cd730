// The harness of the parent-death tests: a driver process (a forked child
// of the test) that makes itself a child subreaper, starts a parent with an
// Agent and its forked workers, kills the parent once every worker is ready,
// and hears the workers out over a pipe. Every process bounds its own life,
// and the driver reaps everything.
#ifndef ZEN_TESTING_AGENT_PARENT_DEATH_TEST_UTIL_H_
#define ZEN_TESTING_AGENT_PARENT_DEATH_TEST_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/agent.h"

namespace zen::testing {

// How soon a worker must notice its parent's death.
inline constexpr absl::Duration kNoticeBound = absl::Seconds(2);

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

// FastAgentOptions() whose on_parent_exit counts into this process's
// ParentExitCallbacks() and ParentExitNoticedUnixMs().
AgentOptions ParentDeathOptions();
// Per process (each worker has its own copy after the fork): how often
// on_parent_exit ran, and when it first did (Unix ms; 0: never).
int ParentExitCallbacks();
int64_t ParentExitNoticedUnixMs();

// Counts this process's log lines from now on (LogLines()); ResetLogLines
// starts the count again from zero.
void CountLogLines();
void ResetLogLines();
int LogLines();

// Worker side: the reports, each one write to `fd`.
void SendReady(int fd);
void SendError(int fd, const std::string& text);
// The final report: `error` (empty: none) and this process's counts.
void SendFinal(int fd, const std::string& error);

// Driver side: one report, or false after 20 s.
bool ReadReport(int fd, WorkerReport* report);

// How a reparented worker ended: reaped by pid, killed at the deadline.
struct Ended {
  bool killed_at_deadline = false;
  int exit_code = -1;
  int term_signal = 0;
  absl::Time when;
};
Ended ReapWithin(pid_t pid, absl::Time deadline);

absl::Status BecomeSubreaper();

// What the driver learned once the parent was killed.
struct ParentKilled {
  bool all_ready = false;   // false: a worker failed before it was ready.
  int fd = -1;              // The read end of the workers' pipe.
  std::vector<pid_t> pids;  // The workers that said they are ready.
  absl::Time at;            // When the parent was killed.
};

// Runs in the driver: becomes a subreaper, starts a parent with `options`
// whose `workers` workers run `worker(agent, index, fd)` (fd: the pipe's
// write end), kills the parent once each sent its ready report, then calls
// `check`, which reaps the workers and returns the errors it found (empty:
// none). Returns the first failure: the parent's start, a worker that never
// got ready, then `check`'s errors.
absl::Status DriveParentDeath(
    AgentOptions options, int workers,
    std::function<void(Agent* agent, int index, int fd)> worker,
    std::function<std::string(const ParentKilled&)> check);

}  // namespace zen::testing

#endif  // ZEN_TESTING_AGENT_PARENT_DEATH_TEST_UTIL_H_
