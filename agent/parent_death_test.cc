// ArmParentDeathSignal and DeadParentRetryPolicy, on real processes: the
// signal that ends a child whose parent is gone, and the retry schedule
// once it is. The agent's workers under a dead parent are in
// parent_death_agent_test.cc.
#include "agent/parent_death.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "testing/agent/parent_death_test_util.h"
#include "testing/deadline.h"
#include "testing/forked_child.h"

namespace zen {
namespace {

using ::zen::testing::BecomeSubreaper;
using ::zen::testing::ChildOutcome;
using ::zen::testing::Ended;
using ::zen::testing::In;
using ::zen::testing::ReapWithin;

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

// ParentDeath in a real orphan: Gone() turns true when the process that
// forked it exits, and the host's callback runs once however many threads
// report at once.
TEST(ParentDeathTest, RecordSeesTheParentGoneAndReportsOnce) {
  ChildOutcome outcome = testing::RunInChild([]() -> absl::Status {
    if (absl::Status s = BecomeSubreaper(); !s.ok()) return s;
    const pid_t parent = ::fork();
    if (parent < 0) return absl::InternalError("fork");
    if (parent == 0) {
      const pid_t me = ::getpid();
      const pid_t child = ::fork();
      if (child == 0) {
        std::atomic<int> calls{0};
        ParentDeath death(me, absl::Milliseconds(10), absl::Seconds(1),
                          [&calls] { calls.fetch_add(1); });
        const absl::Time give_up = In(absl::Seconds(10));
        while (!death.Gone() && zen::Now() < give_up) ::poll(nullptr, 0, 1);
        if (!death.Gone()) ::_exit(3);
        std::vector<std::thread> reporters;
        for (int i = 0; i < 4; ++i) {
          reporters.emplace_back([&death] { death.ReportOnce(); });
        }
        for (std::thread& t : reporters) t.join();
        if (death.ReportOnce()) ::_exit(4);
        ::_exit(calls.load() == 1 ? 0 : 5);
      }
      ::_exit(child > 0 ? 0 : 6);  // The orphan's parent exits at once.
    }
    const Ended middle = ReapWithin(parent, In(absl::Seconds(10)));
    if (middle.killed_at_deadline || middle.exit_code != 0) {
      return absl::InternalError("the orphan's parent did not exit cleanly");
    }
    // The orphan comes to this subreaper; its exit code says what it saw.
    int orphan_status = 0;
    pid_t orphan;
    const absl::Time give_up = In(absl::Seconds(15));
    while ((orphan = ::waitpid(-1, &orphan_status, WNOHANG)) == 0 &&
           zen::Now() < give_up) {
      ::poll(nullptr, 0, 5);
    }
    if (orphan <= 0) return absl::InternalError("the orphan did not exit");
    if (!WIFEXITED(orphan_status) || WEXITSTATUS(orphan_status) != 0) {
      return absl::InternalError(
          absl::StrCat("orphan wait status ", orphan_status));
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
}

TEST(ParentDeathTest, NoParentIsNeverGone) {
  ParentDeath death(0, absl::Milliseconds(10), absl::Seconds(1), nullptr);
  EXPECT_FALSE(death.Gone());
  EXPECT_TRUE(absl::IsUnavailable(death.ExitedError()));
  EXPECT_TRUE(death.ReportOnce());  // No callback: still reported once.
  EXPECT_FALSE(death.ReportOnce());
}

TEST(ParentDeathTest, RetryWaitsGrowAndStartOverForANewEpisode) {
  ParentDeath death(0, absl::Milliseconds(100), absl::Seconds(1), nullptr);
  const absl::Duration first = death.NextRetryDelay();
  absl::Duration last = first;
  for (int i = 0; i < 6; ++i) last = death.NextRetryDelay();
  // +-25% around 100 ms, then capped at 1 s (+-25%).
  EXPECT_GE(first, absl::Milliseconds(75));
  EXPECT_LE(first, absl::Milliseconds(125));
  EXPECT_GE(last, absl::Milliseconds(750));
  death.RestartRetries();
  EXPECT_LE(death.NextRetryDelay(), absl::Milliseconds(125));
}

}  // namespace
}  // namespace zen
