#include "testing/forked_child.h"

#include <signal.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace zen::testing {
namespace {

TEST(ForkedChildTest, ReportsSuccess) {
  ChildOutcome outcome = RunInChild([] { return absl::OkStatus(); });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
}

TEST(ForkedChildTest, ReportsFailureMessage) {
  ChildOutcome outcome =
      RunInChild([] { return absl::InternalError("child says no"); });
  EXPECT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_NE(outcome.message.find("child says no"), std::string::npos);
}

TEST(ForkedChildTest, KillsChildAtDeadline) {
  ChildOutcome outcome = RunInChild(
      [] {
        for (;;) ::pause();
        return absl::OkStatus();
      },
      absl::Milliseconds(100));
  EXPECT_TRUE(outcome.killed_at_deadline);
}

TEST(ForkedChildTest, DestructorKillsAndReapsRunningChild) {
  pid_t pid;
  {
    auto child = ForkedChild::Start([] {
      for (;;) ::pause();
      return absl::OkStatus();
    });
    ASSERT_TRUE(child.ok());
    pid = child->pid();
  }
  // Reaped: the pid no longer names a process (or a zombie) of ours.
  EXPECT_EQ(::kill(pid, 0), -1);
}

}  // namespace
}  // namespace zen::testing
