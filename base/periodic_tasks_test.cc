#include "base/periodic_tasks.h"

#include <atomic>
#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "base/thread_group.h"
#include "gtest/gtest.h"
#include "testing/forked_child.h"

namespace zen {
namespace {

// Long enough that no test sees a task come due by itself: every run the
// tests wait for is a first run or one made due with RunSoon().
constexpr absl::Duration kNever = absl::Hours(24);

// Polls `condition` for up to 30 s.
template <typename F>
bool Eventually(F condition) {
  const absl::Time deadline = zen::Now() + absl::Seconds(30);
  while (zen::Now() < deadline) {
    if (condition()) return true;
    zen::SleepFor(absl::Milliseconds(1));
  }
  return condition();
}

// A gate a task waits at until the test opens it.
class Gate {
 public:
  void Open() {
    MutexLock lock(&mu_);
    open_ = true;
    cv_.SignalAll();
  }
  void Pass() {
    MutexLock lock(&mu_);
    waiting_ = true;
    while (!open_) cv_.Wait(&mu_);
  }
  bool someone_waiting() {
    MutexLock lock(&mu_);
    return waiting_;
  }

 private:
  Mutex mu_;
  CondVar cv_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;
};

TEST(PeriodicTasksTest, RunsFirstAfterItsDelayThenWhenMadeDue) {
  PeriodicTasks tasks;
  std::atomic<int> flushes{0};
  const PeriodicTasks::TaskId flush =
      tasks.AddEvery("flush", absl::ZeroDuration(), kNever, [&] { ++flushes; });
  const PeriodicTasks::TaskId poll =
      tasks.AddEvery("poll", kNever, kNever, [] {});
  ASSERT_TRUE(tasks.Start().ok());
  ASSERT_TRUE(Eventually([&] { return tasks.runs(flush) == 1; }));
  tasks.RunSoon(flush);
  ASSERT_TRUE(Eventually([&] { return tasks.runs(flush) == 2; }));
  EXPECT_EQ(flushes.load(), 2);
  EXPECT_EQ(tasks.runs(poll), 0u);  // Its first run is a day away.
  EXPECT_EQ(tasks.name(poll), "poll");
  tasks.Stop();
}

TEST(PeriodicTasksTest, ATaskSaysWhenItRunsNext) {
  PeriodicTasks tasks;
  std::atomic<int> calls{0};
  const PeriodicTasks::TaskId retry =
      tasks.Add("retry", absl::ZeroDuration(), [&] {
        // Again at once twice, then only when asked.
        return ++calls < 3 ? absl::ZeroDuration() : absl::InfiniteDuration();
      });
  ASSERT_TRUE(tasks.Start().ok());
  ASSERT_TRUE(Eventually([&] { return tasks.runs(retry) == 3; }));
  tasks.RunSoon(retry);
  ASSERT_TRUE(Eventually([&] { return tasks.runs(retry) == 4; }));
  EXPECT_EQ(calls.load(), 4);
  tasks.Stop();
}

TEST(PeriodicTasksTest, MadeDueDuringItsRunItRunsOnceMore) {
  PeriodicTasks tasks;
  Gate gate;
  std::atomic<int> calls{0};
  const PeriodicTasks::TaskId poll =
      tasks.AddEvery("poll", absl::ZeroDuration(), kNever, [&] {
        if (++calls == 1) gate.Pass();
      });
  ASSERT_TRUE(tasks.Start().ok());
  ASSERT_TRUE(Eventually([&] { return gate.someone_waiting(); }));
  tasks.RunSoon(poll);  // While the first run waits at the gate.
  gate.Open();
  ASSERT_TRUE(Eventually([&] { return tasks.runs(poll) == 2; }));
  tasks.Stop();
}

TEST(PeriodicTasksTest, TasksNeverOverlap) {
  PeriodicTasks tasks;
  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};
  auto body = [&] {
    const int now_inside = ++inside;
    if (now_inside > most_inside) most_inside = now_inside;
    zen::SleepFor(absl::Microseconds(100));
    --inside;
  };
  const PeriodicTasks::TaskId a =
      tasks.AddEvery("a", absl::ZeroDuration(), kNever, body);
  const PeriodicTasks::TaskId b =
      tasks.AddEvery("b", absl::ZeroDuration(), kNever, body);
  ASSERT_TRUE(tasks.Start().ok());
  for (uint64_t i = 1; i <= 20; ++i) {
    // Both made due while the other may be running.
    ASSERT_TRUE(
        Eventually([&] { return tasks.runs(a) == i && tasks.runs(b) == i; }));
    tasks.RunSoon(a);
    tasks.RunSoon(b);
  }
  tasks.Stop();
  EXPECT_EQ(most_inside.load(), 1);
}

TEST(PeriodicTasksTest, StopWaitsForTheRunUnderWayAndEndsTheSchedule) {
  PeriodicTasks tasks;
  Gate gate;
  std::atomic<bool> finished{false};
  const PeriodicTasks::TaskId slow =
      tasks.AddEvery("slow", absl::ZeroDuration(), kNever, [&] {
        gate.Pass();
        finished = true;
      });
  ASSERT_TRUE(tasks.Start().ok());
  ASSERT_TRUE(Eventually([&] { return gate.someone_waiting(); }));
  std::atomic<bool> stopped{false};
  ThreadGroup stopper;
  stopper.Spawn([&] {
    tasks.Stop();
    stopped = true;
  });
  gate.Open();
  stopper.JoinAll();
  EXPECT_TRUE(stopped.load());
  EXPECT_TRUE(finished.load());  // Stop() returned after the run ended.
  EXPECT_EQ(tasks.runs(slow), 1u);
  tasks.RunSoon(slow);  // No thread is left to run it.
  EXPECT_EQ(tasks.runs(slow), 1u);
}

TEST(PeriodicTasksTest, AddedWhileRunningItRunsToo) {
  PeriodicTasks tasks;
  ASSERT_TRUE(tasks.Start().ok());
  std::atomic<int> calls{0};
  const PeriodicTasks::TaskId late =
      tasks.AddEvery("late", absl::ZeroDuration(), kNever, [&] { ++calls; });
  ASSERT_TRUE(Eventually([&] { return tasks.runs(late) == 1; }));
  EXPECT_EQ(calls.load(), 1);
}

TEST(PeriodicTasksTest, AForkedChildAbandonsTheParentsScheduleAndRunsItsOwn) {
  auto tasks = std::make_unique<PeriodicTasks>();
  std::atomic<int> parent_runs{0};
  const PeriodicTasks::TaskId tick = tasks->AddEvery(
      "tick", absl::ZeroDuration(), kNever, [&] { ++parent_runs; });
  ASSERT_TRUE(tasks->Start().ok());
  // Idle when forked (waiting a day under no lock): nothing of the
  // parent's thread is half done in the child.
  ASSERT_TRUE(Eventually([&] { return tasks->runs(tick) == 1; }));
  testing::ChildOutcome outcome = testing::RunInChild([&]() -> absl::Status {
    tasks.release()->AbandonAfterFork();  // Leaked, as documented.
    PeriodicTasks own;
    std::atomic<int> runs{0};
    own.AddEvery("child", absl::ZeroDuration(), kNever, [&] { ++runs; });
    if (!own.Start().ok()) return absl::InternalError("no thread");
    if (!Eventually([&] { return runs.load() == 1; })) {
      return absl::InternalError("the child's task never ran");
    }
    own.Stop();
    return absl::OkStatus();
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
  tasks->RunSoon(tick);  // The parent's schedule goes on.
  ASSERT_TRUE(Eventually([&] { return tasks->runs(tick) == 2; }));
  EXPECT_EQ(parent_runs.load(), 2);
  tasks->Stop();
}

}  // namespace
}  // namespace zen
