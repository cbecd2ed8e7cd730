#include "base/thread_group.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "gtest/gtest.h"
#include "testing/forked_child.h"
#include "testing/task_limit.h"

namespace zen {
namespace {

// Set by the first function a thread runs; a function that finds it set runs
// on a reused thread (thread_local storage starts fresh on a new thread).
thread_local int thread_marker = 0;

// Polls `condition` for up to 10 s.
template <typename F>
bool Eventually(F condition) {
  const absl::Time deadline = zen::Now() + absl::Seconds(10);
  while (zen::Now() < deadline) {
    if (condition()) return true;
    zen::SleepFor(absl::Milliseconds(1));
  }
  return condition();
}

TEST(ThreadGroupTest, WithoutParkingEveryFunctionGetsAFreshThread) {
  ThreadGroup group;
  std::atomic<int> reused{0};
  for (int i = 0; i < 5; ++i) {
    group.Spawn([&] { reused += thread_marker++; });
    ASSERT_TRUE(Eventually([&] { return group.running() == 0; }));
  }
  group.JoinAll();
  EXPECT_EQ(reused.load(), 0);
  EXPECT_EQ(group.parked(), 0u);
}

TEST(ThreadGroupTest, AParkedThreadRunsTheNextFunction) {
  ThreadGroup group(/*max_parked=*/1, absl::Seconds(30));
  std::atomic<int> fresh_threads{0};
  for (int i = 0; i < 20; ++i) {
    group.Spawn([&] {
      if (thread_marker++ == 0) ++fresh_threads;
    });
    ASSERT_TRUE(Eventually([&] { return group.parked() == 1; }));
  }
  EXPECT_EQ(fresh_threads.load(), 1);
  EXPECT_EQ(group.running(), 1u);  // The parked one.
  group.JoinAll();
  EXPECT_EQ(group.running(), 0u);
}

TEST(ThreadGroupTest, ParksNoMoreThanTheLimit) {
  ThreadGroup group(/*max_parked=*/2, absl::Seconds(30));
  Mutex mu;
  CondVar cv;
  bool release = false;
  for (int i = 0; i < 6; ++i) {
    group.Spawn([&] {
      MutexLock lock(&mu);
      while (!release) cv.Wait(&mu);
    });
  }
  ASSERT_TRUE(Eventually([&] { return group.running() == 6; }));
  {
    MutexLock lock(&mu);
    release = true;
    cv.SignalAll();
  }
  ASSERT_TRUE(Eventually([&] { return group.running() == 2; }));
  EXPECT_EQ(group.parked(), 2u);
}

TEST(ThreadGroupTest, BusyCountsAThreadUntilItParksOrExits) {
  ThreadGroup group(/*max_parked=*/1, absl::Seconds(30));
  std::atomic<int> slots_freed{0};
  for (int i = 0; i < 2; ++i) {
    group.Spawn([&] {
      // An owner's bookkeeping says "done" here, yet the thread lives on.
      ++slots_freed;
      zen::SleepFor(absl::Milliseconds(200));
    });
  }
  ASSERT_TRUE(Eventually([&] { return slots_freed.load() == 2; }));
  EXPECT_EQ(group.JoinFinishedAndCountBusy(), 2u);
  // One parks (idle, not busy); the other exits and is joined by the count.
  ASSERT_TRUE(
      Eventually([&] { return group.JoinFinishedAndCountBusy() == 0; }));
  EXPECT_EQ(group.parked(), 1u);
  EXPECT_EQ(group.running(), 1u);
  // Work handed to the parked thread makes it busy again.
  Mutex mu;
  CondVar cv;
  bool release = false;
  group.Spawn([&] {
    MutexLock lock(&mu);
    while (!release) cv.Wait(&mu);
  });
  EXPECT_EQ(group.JoinFinishedAndCountBusy(), 1u);
  {
    MutexLock lock(&mu);
    release = true;
    cv.SignalAll();
  }
  group.JoinAll();
  EXPECT_EQ(group.JoinFinishedAndCountBusy(), 0u);
}

TEST(ThreadGroupTest, ParkedThreadsExitAfterTheirTime) {
  ThreadGroup group(/*max_parked=*/4, absl::Milliseconds(50));
  for (int i = 0; i < 4; ++i) group.Spawn([] {});
  ASSERT_TRUE(Eventually([&] { return group.running() == 0; }));
  EXPECT_EQ(group.parked(), 0u);
}

TEST(ThreadGroupTest, JoinAllWakesParkedThreadsAtOnce) {
  ThreadGroup group(/*max_parked=*/4, absl::Hours(1));
  // Four threads at once (one finishing early would take the next Spawn).
  Mutex mu;
  CondVar cv;
  int started = 0;
  for (int i = 0; i < 4; ++i) {
    group.Spawn([&] {
      MutexLock lock(&mu);
      ++started;
      cv.SignalAll();
      while (started < 4) cv.Wait(&mu);
    });
  }
  ASSERT_TRUE(Eventually([&] { return group.parked() == 4; }));
  const absl::Time start = zen::Now();
  group.JoinAll();
  EXPECT_LT(zen::Now() - start, absl::Seconds(5));
  EXPECT_EQ(group.running(), 0u);
  // The group stays usable after JoinAll.
  std::atomic<bool> ran{false};
  group.Spawn([&] { ran = true; });
  group.JoinAll();
  EXPECT_TRUE(ran.load());
}

// A thread that cannot be created (EAGAIN under a task limit) fails the
// Spawn instead of ending the process: the function is not run and is
// destroyed, the group's counts are unchanged and JoinAll still returns.
TEST(ThreadGroupTest, SpawnFailsCleanlyWhenNoThreadCanBeCreated) {
  testing::ChildOutcome outcome = testing::RunInChild([]() -> absl::Status {
    ThreadGroup group;
    absl::Status limited = testing::LimitThreadsInThisChild();
    if (!limited.ok()) return limited;
    auto captured = std::make_shared<int>(0);
    std::atomic<bool> ran{false};
    absl::Status spawned = group.TrySpawn([captured, &ran] { ran = true; });
    if (!absl::IsResourceExhausted(spawned)) {
      return absl::InternalError(absl::StrCat("Spawn: ", spawned.ToString()));
    }
    if (ran.load() || captured.use_count() != 1 || group.running() != 0) {
      return absl::InternalError("a failed Spawn left something behind");
    }
    group.JoinAll();
    absl::Status lifted = testing::LiftThreadLimitInThisChild();
    if (!lifted.ok()) return lifted;
    spawned = group.TrySpawn([captured, &ran] { ran = true; });
    group.JoinAll();
    if (!spawned.ok() || !ran.load()) {
      return absl::InternalError("the group is unusable after a failure");
    }
    return absl::OkStatus();
  });
  if (outcome.message.find("FAILED_PRECONDITION") != std::string::npos) {
    GTEST_SKIP() << outcome.message;
  }
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
}

TEST(ThreadGroupTest, EveryFunctionRunsUnderConcurrentSpawns) {
  constexpr int kSpawners = 4;
  constexpr int kEach = 500;
  ThreadGroup group(/*max_parked=*/3, absl::Seconds(30));
  std::atomic<int> ran{0};
  {
    ThreadGroup spawners;
    for (int s = 0; s < kSpawners; ++s) {
      spawners.Spawn([&] {
        for (int i = 0; i < kEach; ++i) group.Spawn([&] { ++ran; });
      });
    }
  }
  group.JoinAll();
  EXPECT_EQ(ran.load(), kSpawners * kEach);
}

TEST(ThreadGroupTest, CapturesAreReleasedBeforeParking) {
  ThreadGroup group(/*max_parked=*/1, absl::Hours(1));
  auto token = std::make_shared<int>(7);
  std::weak_ptr<int> watch = token;
  group.Spawn([token = std::move(token)] {});
  ASSERT_TRUE(Eventually([&] { return group.parked() == 1; }));
  EXPECT_TRUE(watch.expired());
}

}  // namespace
}  // namespace zen
