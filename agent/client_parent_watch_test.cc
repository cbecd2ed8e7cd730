// ParentExitWatch's steps, driven one at a time on this thread over the
// in-process transport (a server that is always there) and a real
// ParentDeath. A ParentDeath given this process's own pid as the parent's
// finds it gone (getppid() is never our own pid), which is how an orphan
// sees its parent.
#include "agent/client_parent_watch.h"

#include <unistd.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/agent_service.h"
#include "agent/in_process_transport.h"
#include "agent/parent_death.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

constexpr absl::Duration kCheck = absl::Milliseconds(250);

class ParentExitWatchTest : public ::testing::Test {
 protected:
  // A watch of a parent with pid `parent`.
  std::unique_ptr<ParentExitWatch> WatchOf(pid_t parent) {
    death_ = std::make_unique<ParentDeath>(parent, absl::Milliseconds(10),
                                           absl::Seconds(1),
                                           [this] { ++exits_reported_; });
    return std::make_unique<ParentExitWatch>(
        &transport_, death_.get(), kCheck, absl::Seconds(10),
        [this] { ++exited_calls_; }, [this] { ++reached_calls_; });
  }

  AgentService service_{AgentServiceOptions{}};
  InProcessAgentTransport transport_{&service_};
  std::unique_ptr<ParentDeath> death_;
  int exits_reported_ = 0;
  int exited_calls_ = 0;
  int reached_calls_ = 0;
};

TEST_F(ParentExitWatchTest, WithoutAParentFailuresPassThrough) {
  std::unique_ptr<ParentExitWatch> watch = WatchOf(0);
  EXPECT_FALSE(watch->watching());
  const absl::Status refused = absl::UnavailableError("connection refused");
  EXPECT_EQ(watch->NoteFailure(refused), refused);
  EXPECT_FALSE(watch->exited());
}

TEST_F(ParentExitWatchTest, WhileTheParentLivesFailuresPassThrough) {
  std::unique_ptr<ParentExitWatch> watch = WatchOf(::getppid());
  EXPECT_TRUE(watch->watching());
  const absl::Status refused = absl::UnavailableError("connection refused");
  EXPECT_EQ(watch->NoteFailure(refused), refused);
  EXPECT_EQ(watch->Step(), kCheck);
  EXPECT_FALSE(watch->exited());
  EXPECT_EQ(exited_calls_, 0);
}

TEST_F(ParentExitWatchTest, AServerThatOutlivesTheParentKeepsCallsGoing) {
  std::unique_ptr<ParentExitWatch> watch = WatchOf(::getpid());
  EXPECT_EQ(watch->Step(), kCheck);  // Gone, but the server answers a ping.
  EXPECT_FALSE(watch->exited());
  EXPECT_EQ(exits_reported_, 0);
  // Only a call the server does not answer says it went too.
  const absl::Status slow = absl::DeadlineExceededError("slow");
  EXPECT_EQ(watch->NoteFailure(slow), slow);
  EXPECT_FALSE(watch->exited());
}

TEST_F(ParentExitWatchTest, AServerGoneWithTheParentFailsFastUntilReached) {
  std::unique_ptr<ParentExitWatch> watch = WatchOf(::getpid());
  const absl::Status failed =
      watch->NoteFailure(absl::UnavailableError("connection refused"));
  EXPECT_TRUE(absl::IsUnavailable(failed));
  EXPECT_EQ(failed, watch->ExitedError());
  EXPECT_TRUE(watch->exited());
  EXPECT_EQ(exited_calls_, 1);  // The owner runs the next step at once.
  // A call cancelled under it (the connection was stopped) says why.
  EXPECT_EQ(watch->NoteFailure(absl::CancelledError("stopped")),
            watch->ExitedError());
  EXPECT_EQ(watch->NoteFailure(absl::UnavailableError("closed")),
            watch->ExitedError());
  EXPECT_EQ(exited_calls_, 1);

  // First step: the exit is reported, then a wait before the next try.
  EXPECT_GT(watch->Step(), absl::ZeroDuration());
  EXPECT_EQ(exits_reported_, 1);
  EXPECT_TRUE(watch->exited());
  // Next: the server answers again, and calls go through.
  EXPECT_EQ(watch->Step(), kCheck);
  EXPECT_FALSE(watch->exited());
  EXPECT_EQ(reached_calls_, 1);

  // A second episode: fail fast again; the exit was reported already.
  EXPECT_EQ(watch->NoteFailure(absl::UnavailableError("connection refused")),
            watch->ExitedError());
  EXPECT_TRUE(watch->exited());
  EXPECT_EQ(exited_calls_, 2);
  watch->Step();
  EXPECT_EQ(exits_reported_, 1);
  watch->Step();
  EXPECT_FALSE(watch->exited());
  EXPECT_EQ(reached_calls_, 2);
}

}  // namespace
}  // namespace zen
