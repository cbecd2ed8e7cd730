#include "rpc/reconnector.h"

#include <atomic>
#include <thread>

#include "base/clock.h"
#include "gtest/gtest.h"

namespace zen::rpc::internal {
namespace {

ipc::ReconnectPolicy::Options FastPolicy() {
  ipc::ReconnectPolicy::Options policy;
  policy.initial_delay = absl::Milliseconds(5);
  return policy;
}

void WaitFor(const std::atomic<int>& value, int at_least) {
  const absl::Time give_up = zen::Now() + absl::Seconds(10);
  while (value.load() < at_least && zen::Now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(ReconnectorTest, DoesNothingUntilDisconnected) {
  std::atomic<int> attempts{0};
  Reconnector reconnector(FastPolicy(), [&](ipc::ConnectCanceller*) {
    ++attempts;
    return absl::OkStatus();
  });
  std::thread runner([&] { reconnector.Run(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(attempts.load(), 0);
  reconnector.Stop();
  runner.join();
}

TEST(ReconnectorTest, RetriesUntilAReconnectSucceedsThenWaitsAgain) {
  std::atomic<int> attempts{0};
  Reconnector reconnector(FastPolicy(), [&](ipc::ConnectCanceller*) {
    return ++attempts < 3 ? absl::UnavailableError("refused")
                          : absl::OkStatus();
  });
  std::thread runner([&] { reconnector.Run(); });
  reconnector.Disconnected();
  WaitFor(attempts, 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(attempts.load(), 3);  // Connected: no more attempts.
  reconnector.Disconnected();     // Lost again: retries again.
  WaitFor(attempts, 4);
  EXPECT_EQ(attempts.load(), 4);
  reconnector.Stop();
  runner.join();
}

TEST(ReconnectorTest, StopEndsTheWaitBeforeARetry) {
  ipc::ReconnectPolicy::Options slow;
  slow.initial_delay = absl::Seconds(60);
  std::atomic<int> attempts{0};
  Reconnector reconnector(slow, [&](ipc::ConnectCanceller*) {
    ++attempts;
    return absl::UnavailableError("refused");
  });
  std::thread runner([&] { reconnector.Run(); });
  reconnector.Disconnected();
  WaitFor(attempts, 1);  // The first retry is at once; the next in 60 s.
  const absl::Time start = zen::Now();
  reconnector.Stop();
  runner.join();
  EXPECT_LT(zen::Now() - start, absl::Seconds(5));
  EXPECT_EQ(attempts.load(), 1);
}

TEST(ReconnectorTest, StopCancelsAConnectInProgress) {
  std::atomic<int> attempts{0};
  Reconnector reconnector(FastPolicy(), [&](ipc::ConnectCanceller* canceller) {
    ++attempts;
    while (!canceller->cancelled()) {  // A wedged server.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return absl::CancelledError("connect cancelled");
  });
  std::thread runner([&] { reconnector.Run(); });
  reconnector.Disconnected();
  WaitFor(attempts, 1);
  reconnector.Stop();
  runner.join();
  EXPECT_EQ(attempts.load(), 1);
}

}  // namespace
}  // namespace zen::rpc::internal
