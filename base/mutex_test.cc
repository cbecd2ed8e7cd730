#include "base/mutex.h"

#include <thread>

#include "base/clock.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

// Whether another thread can take `*mu` right now.
bool FreeForOthers(Mutex* mu) {
  bool taken = false;
  std::thread other([&] {
    if (mu->TryLock()) {
      mu->Unlock();
      taken = true;
    }
  });
  other.join();
  return taken;
}

TEST(WithUnlockedTest, ReleasesDuringTheCallAndRelocksAfter) {
  Mutex mu;
  MutexLock lock(&mu);
  const int result = WithUnlocked(&mu, [&] {
    EXPECT_TRUE(FreeForOthers(&mu));
    return 7;
  });
  EXPECT_EQ(result, 7);
  EXPECT_FALSE(FreeForOthers(&mu));
}

TEST(WithUnlockedTest, RelocksWhenTheCallThrows) {
  Mutex mu;
  MutexLock lock(&mu);
  EXPECT_THROW(WithUnlocked(&mu, []() -> int { throw 1; }), int);
  EXPECT_FALSE(FreeForOthers(&mu));
}

TEST(CondVarTest, WaitUntilTimesOutWithoutSignal) {
  Mutex mu;
  CondVar cv;
  MutexLock lock(&mu);
  const absl::Time start = zen::Now();
  bool woken = true;
  while (woken && zen::Now() < start + absl::Milliseconds(20)) {
    woken = cv.WaitUntil(&mu, start + absl::Milliseconds(20));
  }
  EXPECT_FALSE(woken);
  EXPECT_GE(zen::Now() - start, absl::Milliseconds(20));
}

TEST(CondVarTest, SignalWakesWaiter) {
  Mutex mu;
  CondVar cv;
  bool ready = false;
  std::thread signaller([&] {
    MutexLock lock(&mu);
    ready = true;
    cv.SignalAll();
  });
  {
    MutexLock lock(&mu);
    const absl::Time deadline = zen::Now() + absl::Seconds(10);
    while (!ready && cv.WaitUntil(&mu, deadline)) {
    }
    EXPECT_TRUE(ready);
  }
  signaller.join();
}

}  // namespace
}  // namespace zen
