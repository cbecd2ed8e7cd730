#include "base/thread_state.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "base/mutex.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

TEST(ThreadStateTest, TellsARunningThreadFromASleepingOne) {
  EXPECT_EQ(ThreadState(CurrentThreadId()), 'R');  // Reading its own state.

  Mutex mu;
  CondVar cv;
  bool release = false;
  std::atomic<pid_t> sleeper{0};
  std::thread t([&] {
    sleeper = CurrentThreadId();
    MutexLock lock(&mu);
    while (!release) cv.Wait(&mu);
  });
  while (sleeper.load() == 0) std::this_thread::yield();
  // Blocked in the condition variable's futex: asleep, soon.
  char state = '\0';
  for (int i = 0; i < 10000 && state != 'S'; ++i) {
    state = ThreadState(sleeper.load());
    if (state != 'S') std::this_thread::yield();
  }
  EXPECT_EQ(state, 'S');
  std::vector<pid_t> ids = ThreadIds();
  EXPECT_NE(std::find(ids.begin(), ids.end(), sleeper.load()), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), CurrentThreadId()), ids.end());
  {
    MutexLock lock(&mu);
    release = true;
    cv.SignalAll();
  }
  t.join();
  EXPECT_EQ(ThreadState(sleeper.load()), '\0');  // Gone.
}

}  // namespace
}  // namespace zen
