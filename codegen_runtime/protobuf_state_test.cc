// ProtobufStateLock and ForkSafeLazy: what the fork safety of the codecs
// rests on (codegen_runtime/protobuf_state.h).
#include "codegen_runtime/protobuf_state.h"

#include <atomic>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "gtest/gtest.h"
#include "testing/deadline.h"
#include "testing/forked_child.h"
#include "testing/sanitizers.h"

namespace zen::codegen_runtime {
namespace {

TEST(ProtobufStateLockTest, IsReentrantOnOneThread) {
  ProtobufStateLock outer;
  ProtobufStateLock inner;  // Would deadlock on a plain mutex.
  SUCCEED();
}

// fork() waits for a holder of the lock: the child never sees a state in
// which another thread was inside protobuf.
TEST(ProtobufStateLockTest, ForkWaitsForTheHolderToRelease) {
  if (::zen::testing::kThreadSanitizer) {
    GTEST_SKIP() << ::zen::testing::kTsanForkSkipReason;
  }
  struct Shared {
    Mutex mu;
    CondVar changed;
    bool holding ABSL_GUARDED_BY(mu) = false;
  } shared;
  // Written only while the holder has the lock; the child reads what the
  // fork copied.
  std::atomic<bool> released{false};
  std::thread holder([&] {
    ProtobufStateLock lock;
    {
      MutexLock l(&shared.mu);
      shared.holding = true;
      shared.changed.SignalAll();
    }
    // Long enough that a fork not held up by the lock lands meanwhile.
    zen::SleepFor(absl::Milliseconds(300));
    released.store(true);
  });
  {
    MutexLock l(&shared.mu);
    const absl::Time deadline = ::zen::testing::In(absl::Seconds(10));
    while (!shared.holding && shared.changed.WaitUntil(&shared.mu, deadline)) {
    }
  }
  const ::zen::testing::ChildOutcome outcome =
      ::zen::testing::RunInChild([&]() -> absl::Status {
        if (!released.load()) {
          return absl::InternalError("forked while the lock was held");
        }
        return absl::OkStatus();
      });
  holder.join();
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
}

TEST(ForkSafeLazyTest, BuildsOnceForEveryThread) {
  static ForkSafeLazy<int> value;
  std::atomic<int> builds{0};
  std::vector<std::thread> threads;
  std::vector<const int*> seen(8, nullptr);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      seen[i] = &value.Get([&] {
        builds.fetch_add(1);
        return new int(42);
      });
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(builds.load(), 1);
  for (const int* p : seen) {
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p, seen[0]);
    EXPECT_EQ(*p, 42);
  }
}

// A builder may use another ForkSafeLazy (a method codec builds its
// message codecs) on the same thread.
TEST(ForkSafeLazyTest, ABuilderMayUseAnotherLazyValue) {
  static ForkSafeLazy<int> inner;
  static ForkSafeLazy<int> outer;
  const int& got = outer.Get(
      [] { return new int(inner.Get([] { return new int(7); }) + 1); });
  EXPECT_EQ(got, 8);
}

}  // namespace
}  // namespace zen::codegen_runtime
