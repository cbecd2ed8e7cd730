// Workers of an Agent whose parent died: real processes (the harness is in
// parent_death_test_util.h). They notice, fail fast, log little, and with
// exit_with_parent end with it.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/agent.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "testing/agent/parent_death_test_util.h"
#include "testing/deadline.h"
#include "testing/forked_child.h"
#include "testing/sanitizers.h"

namespace zen {
namespace {

using ::zen::testing::ChildOutcome;
using ::zen::testing::CountLogLines;
using ::zen::testing::DriveParentDeath;
using ::zen::testing::Ended;
using ::zen::testing::In;
using ::zen::testing::kNoticeBound;
using ::zen::testing::LogLines;
using ::zen::testing::ParentDeathOptions;
using ::zen::testing::ParentExitCallbacks;
using ::zen::testing::ParentKilled;
using ::zen::testing::ReadReport;
using ::zen::testing::ReapWithin;
using ::zen::testing::ResetLogLines;
using ::zen::testing::SendError;
using ::zen::testing::SendFinal;
using ::zen::testing::SendReady;
using ::zen::testing::WorkerReport;

// Reads one final report per worker; `judge` returns what is wrong with one
// (empty: nothing). Returns every error found.
std::string ReadFinalReports(
    const ParentKilled& killed,
    const std::function<std::string(const WorkerReport&)>& judge) {
  std::string errors;
  for (size_t i = 0; killed.all_ready && i < killed.pids.size(); ++i) {
    WorkerReport report;
    if (!ReadReport(killed.fd, &report)) {
      errors += "a worker sent no final report; ";
      break;
    }
    errors += judge(report);
  }
  return errors;
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
  ResetLogLines();  // Counted from here on: the steady state and after.
  SendReady(fd);
  const absl::Time give_up = In(absl::Seconds(15));
  while (ParentExitCallbacks() == 0 && zen::Now() < give_up) {
    zen::SleepFor(absl::Milliseconds(5));
  }
  std::string error;
  if (ParentExitCallbacks() == 0) error = "the parent's exit was never noticed";
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
  SendFinal(fd, error);
}

// What is wrong with a traffic worker's final report (empty: nothing).
std::string TrafficWorkerErrors(const WorkerReport& report,
                                absl::Time killed_at) {
  std::string errors;
  const absl::Duration noticed_after =
      absl::FromUnixMillis(report.noticed_unix_ms) - killed_at;
  std::fprintf(stderr, "worker %d: noticed after %s, %d log lines\n",
               static_cast<int>(report.pid),
               absl::FormatDuration(noticed_after).c_str(), report.log_lines);
  if (report.error[0] != '\0') {
    absl::StrAppend(&errors, "worker ", report.pid, ": ", report.error, "; ");
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
  return errors;
}

// What is wrong with a never-connected worker's final report.
std::string UnconnectedWorkerErrors(const WorkerReport& report) {
  std::string errors;
  if (report.error[0] != '\0') {
    absl::StrAppend(&errors, report.error, "; ");
  } else if (report.callbacks != 1) {
    absl::StrAppend(&errors, "callback fired ", report.callbacks, " times; ");
  } else if (report.log_lines > 3) {
    absl::StrAppend(&errors, "logged ", report.log_lines, " lines; ");
  }
  return errors;
}

TEST(ParentDeathTest, WorkersUnderTrafficNoticeFailFastAndLogLittle) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  constexpr int kWorkers = 4;
  ChildOutcome outcome = testing::RunInChild([]() -> absl::Status {
    return DriveParentDeath(
        ParentDeathOptions(), kWorkers, &TrafficWorker,
        [](const ParentKilled& killed) {
          std::string errors =
              ReadFinalReports(killed, [&killed](const WorkerReport& report) {
                return TrafficWorkerErrors(report, killed.at);
              });
          for (pid_t pid : killed.pids) {
            Ended ended = ReapWithin(pid, In(absl::Seconds(10)));
            if (ended.killed_at_deadline) errors += "a worker did not exit; ";
          }
          return errors;
        });
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
    return DriveParentDeath(
        ParentDeathOptions(), kWorkers,
        [](Agent* agent, int, int out) {
          CountLogLines();
          SendReady(out);
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
          SendFinal(out, error);
        },
        [](const ParentKilled& killed) {
          std::string errors =
              ReadFinalReports(killed, &UnconnectedWorkerErrors);
          for (pid_t pid : killed.pids) {
            (void)ReapWithin(pid, In(absl::Seconds(10)));
          }
          return errors;
        });
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
}

TEST(ParentDeathTest, ExitWithParentTerminatesWorkersWhenTheParentIsKilled) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  constexpr int kWorkers = 3;
  ChildOutcome outcome = testing::RunInChild([]() -> absl::Status {
    AgentOptions options = ParentDeathOptions();
    options.exit_with_parent = true;
    return DriveParentDeath(
        options, kWorkers,
        [](Agent* agent, int, int out) {
          if (agent->client() == nullptr) {
            return SendError(out, "no client");
          }
          SendReady(out);
          zen::SleepFor(absl::Seconds(30));  // Ended by the signal.
        },
        [](const ParentKilled& killed) {
          std::string errors;
          for (pid_t pid : killed.pids) {
            Ended ended = ReapWithin(pid, killed.at + absl::Seconds(10));
            if (ended.term_signal != SIGTERM) {
              absl::StrAppend(&errors, "worker ", pid, " ended with signal ",
                              ended.term_signal, " exit ", ended.exit_code,
                              "; ");
            } else if (ended.when - killed.at > kNoticeBound) {
              absl::StrAppend(&errors, "worker ", pid, " ended after ",
                              absl::FormatDuration(ended.when - killed.at),
                              "; ");
            }
          }
          return errors;
        });
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
}

// The race exit_with_parent closes: the parent is already gone when the
// child arms the signal, so the kernel will never send it; the child must
// raise it itself. (The fork handler calls ArmParentDeathSignal with the
// forking process's pid; here the child calls it after making sure its
// parent has exited.)
}  // namespace
}  // namespace zen
