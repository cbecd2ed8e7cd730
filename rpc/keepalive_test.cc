#include "rpc/keepalive.h"

#include <atomic>
#include <thread>

#include "base/clock.h"
#include "gtest/gtest.h"

namespace zen::rpc::internal {
namespace {

constexpr absl::Duration kInterval = absl::Milliseconds(20);

struct FakeChannel {
  std::atomic<uint64_t> generation{1};
  std::atomic<int> pings{0};
  std::atomic<uint64_t> presumed_dead{0};
  absl::Status ping_status = absl::OkStatus();  // Set before Run.

  Keepalive::Hooks hooks() {
    return {[this] { return generation.load(); },
            [this](absl::Duration timeout) {
              EXPECT_EQ(timeout, kInterval);
              ++pings;
              return ping_status;
            },
            [this](uint64_t g) { presumed_dead = g; }};
  }
};

void Sleep(absl::Duration d) {
  std::this_thread::sleep_for(ToChronoNanoseconds(d));
}

TEST(KeepaliveTest, PingsWhenIdleForTheInterval) {
  FakeChannel channel;
  Keepalive keepalive(kInterval, channel.hooks());
  std::thread runner([&] { keepalive.Run(); });
  Sleep(kInterval * 6);
  keepalive.Stop();
  runner.join();
  EXPECT_GE(channel.pings.load(), 2);
  EXPECT_LE(channel.pings.load(), 7);
  EXPECT_EQ(channel.presumed_dead.load(), 0u);
}

TEST(KeepaliveTest, CallsPostponeThePing) {
  FakeChannel channel;
  Keepalive keepalive(kInterval, channel.hooks());
  std::thread runner([&] { keepalive.Run(); });
  const absl::Time end = zen::Now() + kInterval * 5;
  while (zen::Now() < end) {
    keepalive.NoteCall(zen::Now());
    Sleep(kInterval / 10);
  }
  keepalive.Stop();
  runner.join();
  EXPECT_EQ(channel.pings.load(), 0);
}

TEST(KeepaliveTest, NoPingWithoutAConnection) {
  FakeChannel channel;
  channel.generation = 0;
  Keepalive keepalive(kInterval, channel.hooks());
  std::thread runner([&] { keepalive.Run(); });
  Sleep(kInterval * 4);
  keepalive.Stop();
  runner.join();
  EXPECT_EQ(channel.pings.load(), 0);
}

TEST(KeepaliveTest, APingThatTimesOutDropsThatConnection) {
  FakeChannel channel;
  channel.generation = 7;
  channel.ping_status = absl::DeadlineExceededError("call timed out");
  Keepalive keepalive(kInterval, channel.hooks());
  std::thread runner([&] { keepalive.Run(); });
  const absl::Time give_up = zen::Now() + absl::Seconds(10);
  while (channel.presumed_dead.load() == 0 && zen::Now() < give_up) {
    Sleep(absl::Milliseconds(1));
  }
  keepalive.Stop();
  runner.join();
  EXPECT_EQ(channel.presumed_dead.load(), 7u);
}

TEST(KeepaliveTest, OtherPingFailuresKeepTheConnection) {
  FakeChannel channel;
  channel.ping_status = absl::UnavailableError("not connected");
  Keepalive keepalive(kInterval, channel.hooks());
  std::thread runner([&] { keepalive.Run(); });
  Sleep(kInterval * 4);
  keepalive.Stop();
  runner.join();
  EXPECT_GE(channel.pings.load(), 1);
  EXPECT_EQ(channel.presumed_dead.load(), 0u);
}

TEST(KeepaliveTest, StopEndsTheWaitAtOnce) {
  FakeChannel channel;
  Keepalive keepalive(absl::Seconds(60), channel.hooks());
  std::thread runner([&] { keepalive.Run(); });
  Sleep(absl::Milliseconds(5));
  const absl::Time start = zen::Now();
  keepalive.Stop();
  runner.join();
  EXPECT_LT(zen::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace zen::rpc::internal
