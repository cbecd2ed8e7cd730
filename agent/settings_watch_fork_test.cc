// A worker forked while the parent's settings watches churn: the parent's
// threads park, expire and answer watches (each under the watchers' lock)
// at any moment of the fork, and the child must still find the watchers in
// a state it can forget (AgentServer::AbandonAfterFork, which every forked
// worker runs on its first call) and then use. A lock held by a parent
// thread at the fork is held in the child for good; maps caught mid-update
// crash the child that clears them.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "agent/agent_server.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "ipc/connector.h"
#include "ipc/socket_stream.h"
#include "testing/forked_child.h"
#include "testing/test_secret.h"

namespace zen {
namespace {

constexpr int kForks = 150;
constexpr int kChurningConnections = 3;

TEST(SettingsWatchForkTest, AChildForkedDuringWatchChurnForgetsTheWatches) {
  const ipc::Secret secret = testing::TestSecret();
  std::unique_ptr<AgentServer> server = *AgentServer::Create(&secret, {});
  ASSERT_TRUE(server->Start().ok());

  // Each connection keeps its share of 1 ms watches in flight: the
  // watchers' thread expires and answers them, the server's threads park
  // new ones, all the time.
  std::atomic<bool> stop{false};
  std::vector<std::thread> churn;
  for (int c = 0; c < kChurningConnections; ++c) {
    ipc::ConnectorOptions connect;
    connect.port = server->port();
    absl::StatusOr<std::unique_ptr<ipc::SocketStream>> stream =
        ipc::Connect(secret, connect, zen::Now() + absl::Seconds(5));
    ASSERT_TRUE(stream.ok()) << stream.status();
    churn.emplace_back([&stop, s = std::move(*stream), c] {
      const size_t share = SettingsWatchOptions().max_per_connection;
      uint64_t sent = 0;
      uint64_t answered = 0;
      while (!stop.load()) {
        while (sent - answered < share) {
          const std::string request = absl::StrCat(
              R"([")", c, "-", sent++, R"(","watch_settings",[0,0,1],{}])");
          absl::string_view parts[] = {request};
          if (!s->Write(parts, zen::Now() + absl::Seconds(5)).ok()) return;
        }
        if (!s->Read(zen::Now() + absl::Seconds(5)).ok()) return;
        ++answered;
      }
    });
  }
  // The churn has begun once watches have been parked.
  const absl::Time give_up = zen::Now() + absl::Seconds(10);
  while (server->settings_watches_waiting() == 0 && zen::Now() < give_up) {
    zen::SleepFor(absl::Microseconds(100));
  }

  int crashed_or_stuck = 0;
  std::string first_failure;
  for (int i = 0; i < kForks; ++i) {
    absl::StatusOr<testing::ForkedChild> child =
        testing::ForkedChild::Start([&] {
          server->AbandonAfterFork();
          // Takes the watchers' lock: held for good if a parent thread held
          // it at the fork.
          if (server->settings_watches_waiting() != 0) {
            return absl::InternalError(
                "the parent's watches were not forgotten");
          }
          return absl::OkStatus();
        });
    ASSERT_TRUE(child.ok()) << child.status();
    const testing::ChildOutcome outcome =
        child->Wait(zen::Now() + absl::Seconds(5));
    if (!outcome.ok()) {
      ++crashed_or_stuck;
      if (first_failure.empty()) first_failure = outcome.ToString();
    }
  }
  stop.store(true);
  // Unblocks the churning readers: the server answers every parked watch.
  server->Stop();
  for (std::thread& t : churn) t.join();
  EXPECT_EQ(crashed_or_stuck, 0)
      << "of " << kForks << " children; first: " << first_failure;
}

}  // namespace
}  // namespace zen
