// `watch_settings` on the wire, over a real authenticated connection: a
// watch is answered at once when the worker is behind, parked (holding no
// thread) until the parent's settings change or its wait runs out, and
// answered `{}` when the parent stops.
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "agent/agent_server.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "ipc/connector.h"
#include "ipc/socket_stream.h"
#include "testing/test_secret.h"

namespace zen {
namespace {

// Threads of this process, from /proc/self/status.
int ThreadCount() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest = line;
    int n = 0;
    if (absl::ConsumePrefix(&rest, "Threads:") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &n)) {
      return n;
    }
  }
  return -1;
}

class SettingsWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    secret_ = testing::TestSecret();
    StartServer(AgentServerOptions());
  }

  // Replaces the server (and stream_, connected to the new one).
  void StartServer(const AgentServerOptions& options) {
    stream_.reset();
    server_.reset();
    server_ = *AgentServer::Create(&secret_, options);
    ASSERT_TRUE(server_->Start().ok());
    stream_ = Connect();
    ASSERT_NE(stream_, nullptr);
  }

  std::unique_ptr<ipc::SocketStream> Connect() {
    ipc::ConnectorOptions connect;
    connect.port = server_->port();
    absl::StatusOr<std::unique_ptr<ipc::SocketStream>> stream =
        ipc::Connect(secret_, connect, zen::Now() + absl::Seconds(5));
    EXPECT_TRUE(stream.ok()) << stream.status();
    return stream.ok() ? std::move(*stream) : nullptr;
  }

  // Sends `n` watches on `stream`, ids `<prefix>0` ... `<prefix>n-1`.
  static void SendWatches(ipc::SocketStream* stream, absl::string_view prefix,
                          int n) {
    for (int i = 0; i < n; ++i) {
      Send(stream, absl::StrCat(R"([")", prefix, i,
                                R"(","watch_settings",[0,0,30000],{}])"));
    }
  }
  static void Send(ipc::SocketStream* stream, absl::string_view request) {
    ASSERT_TRUE(
        stream->Write({&request, 1}, zen::Now() + absl::Seconds(5)).ok());
  }
  static std::string Receive(ipc::SocketStream* stream,
                             absl::Duration patience = absl::Seconds(10)) {
    absl::StatusOr<ipc::Frame> frame = stream->Read(zen::Now() + patience);
    return frame.ok() ? std::string(frame->body) : frame.status().ToString();
  }

  // Waits (up to 5 s) until `n` watches are parked.
  bool WaitForParked(size_t n) {
    const absl::Time give_up = zen::Now() + absl::Seconds(5);
    while (server_->settings_watches_waiting() != n) {
      if (zen::Now() > give_up) return false;
      zen::SleepFor(absl::Milliseconds(1));
    }
    return true;
  }

  ipc::Secret secret_;
  std::unique_ptr<AgentServer> server_;
  std::unique_ptr<ipc::SocketStream> stream_;
};

TEST_F(SettingsWatchTest, AWorkerBehindIsAnsweredAtOnce) {
  ASSERT_TRUE(server_->UpdateConfig(R"({"block":true})").ok());
  // Knows no config: answered at once, like updated_settings.
  Send(stream_.get(), R"(["a","watch_settings",[null,0,30000],{}])");
  EXPECT_EQ(Receive(stream_.get(), absl::Seconds(2)),
            R"(["a",{"config":{"block":true},"config_generation":1},null])");
  EXPECT_EQ(server_->settings_watches_waiting(), 0u);
}

TEST_F(SettingsWatchTest, AParkedWatchIsAnsweredWhenTheSettingsChange) {
  Send(stream_.get(), R"(["w","watch_settings",[0,0,30000],{}])");
  ASSERT_TRUE(WaitForParked(1));
  // The connection goes on serving other calls meanwhile.
  Send(stream_.get(), R"(["p","ping",[],{}])");
  EXPECT_EQ(Receive(stream_.get()), R"(["p",null,null])");
  ASSERT_TRUE(
      server_->UpdateFirewallLists(R"({"blockedIPAddresses":[]})").ok());
  EXPECT_EQ(Receive(stream_.get(), absl::Seconds(2)),
            R"(["w",{"firewall_lists":{"blockedIPAddresses":[]},)"
            R"("firewall_lists_generation":1},null])");
  EXPECT_EQ(server_->settings_watches_waiting(), 0u);
}

TEST_F(SettingsWatchTest, AWatchWhoseWaitRunsOutIsAnsweredEmpty) {
  const absl::Time start = zen::Now();
  Send(stream_.get(), R"(["t","watch_settings",[0,0,150],{}])");
  EXPECT_EQ(Receive(stream_.get()), R"(["t",{},null])");
  EXPECT_GE(zen::Now() - start, absl::Milliseconds(150));
  // Two waits, the later one first: each runs out on its own.
  Send(stream_.get(), R"(["long","watch_settings",[0,0,400],{}])");
  Send(stream_.get(), R"(["short","watch_settings",[0,0,50],{}])");
  EXPECT_EQ(Receive(stream_.get()), R"(["short",{},null])");
  EXPECT_EQ(Receive(stream_.get()), R"(["long",{},null])");
}

TEST_F(SettingsWatchTest, EveryWaitingWorkerIsAnsweredOnOneChange) {
  std::vector<std::unique_ptr<ipc::SocketStream>> workers;
  for (int i = 0; i < 8; ++i) {
    workers.push_back(Connect());
    ASSERT_NE(workers.back(), nullptr);
    Send(workers.back().get(),
         absl::StrCat(R"([")", i, R"(","watch_settings",[0,0,30000],{}])"));
  }
  ASSERT_TRUE(WaitForParked(8));
  ASSERT_TRUE(server_->UpdateConfig(R"({"x":1})").ok());
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(Receive(workers[i].get(), absl::Seconds(2)),
              absl::StrCat(R"([")", i,
                           R"(",{"config":{"x":1},"config_generation":1},)"
                           R"(null])"));
  }
}

TEST_F(SettingsWatchTest, WaitingWatchesHoldNoThread) {
  AgentServerOptions options;
  options.settings_watch.max_per_connection = 256;
  StartServer(options);
  Send(stream_.get(), R"(["warm","watch_settings",[0,0,30000],{}])");
  ASSERT_TRUE(WaitForParked(1));
  const int threads = ThreadCount();
  for (int i = 0; i < 200; ++i) {
    Send(stream_.get(),
         absl::StrCat(R"(["w)", i, R"(","watch_settings",[0,0,30000],{}])"));
  }
  ASSERT_TRUE(WaitForParked(201));
  zen::SleepFor(absl::Milliseconds(50));  // Past the relief budget.
  EXPECT_LE(ThreadCount(), threads + 1);
  EXPECT_EQ(server_->server_stats().reliefs, 0u);
}

TEST_F(SettingsWatchTest, StoppingAnswersParkedWatches) {
  Send(stream_.get(), R"(["s","watch_settings",[0,0,30000],{}])");
  ASSERT_TRUE(WaitForParked(1));
  server_->Stop();
  EXPECT_EQ(Receive(stream_.get(), absl::Seconds(2)), R"(["s",{},null])");
}

TEST_F(SettingsWatchTest, AnOutOfRangeWaitIsTheDefault) {
  // Negative and over 60 s: both the 30 s default, so still parked.
  Send(stream_.get(), R"(["n","watch_settings",[0,0,-1],{}])");
  Send(stream_.get(), R"(["o","watch_settings",[0,0,600000],{}])");
  ASSERT_TRUE(WaitForParked(2));
  ASSERT_TRUE(server_->UpdateConfig(R"({})").ok());
  const std::string a = Receive(stream_.get(), absl::Seconds(2));
  const std::string b = Receive(stream_.get(), absl::Seconds(2));
  EXPECT_EQ(a.substr(a.find(',')),
            R"(,{"config":{},"config_generation":1},null])");
  EXPECT_EQ(b.substr(b.find(',')),
            R"(,{"config":{},"config_generation":1},null])");
}

TEST_F(SettingsWatchTest, AConnectionParksAtMostItsShare) {
  const size_t share = SettingsWatchOptions().max_per_connection;
  SendWatches(stream_.get(), "w", 10);
  // Those past the share are refused at once, in the order sent.
  for (size_t i = share; i < 10; ++i) {
    const std::string answer = Receive(stream_.get(), absl::Seconds(5));
    EXPECT_NE(answer.find("too many settings watches on this connection"),
              std::string::npos)
        << answer;
    EXPECT_NE(answer.find(absl::StrCat(R"(["w)", i, R"(")")), std::string::npos)
        << answer;
  }
  EXPECT_TRUE(WaitForParked(share));
  EXPECT_EQ(server_->settings_watches_refused(), 10 - share);
}

TEST_F(SettingsWatchTest, AnHonestWorkersWatchParksWhileAnotherFloods) {
  // Four connections admitted: the pool holds every one's share.
  AgentServerOptions options;
  options.server.listener.max_connections = 4;
  StartServer(options);
  const size_t share = SettingsWatchOptions().max_per_connection;
  std::vector<std::unique_ptr<ipc::SocketStream>> flood;
  flood.push_back(std::move(stream_));
  for (int c = 0; c < 2; ++c) flood.push_back(Connect());
  for (size_t c = 0; c < flood.size(); ++c) {
    ASSERT_NE(flood[c], nullptr);
    SendWatches(flood[c].get(), absl::StrCat("f", c, "-"), 50);
  }
  // Every flooding watch answered: parked or refused.
  const absl::Time give_up = zen::Now() + absl::Seconds(10);
  while (server_->settings_watches_refused() < 3 * (50 - share) &&
         zen::Now() < give_up) {
    zen::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(server_->settings_watches_refused(), 3 * (50 - share));
  ASSERT_TRUE(WaitForParked(3 * share));

  std::unique_ptr<ipc::SocketStream> honest = Connect();
  ASSERT_NE(honest, nullptr);
  Send(honest.get(), R"(["h","watch_settings",[0,0,30000],{}])");
  ASSERT_TRUE(WaitForParked(3 * share + 1));
  ASSERT_TRUE(server_->UpdateConfig(R"({"x":1})").ok());
  EXPECT_EQ(Receive(honest.get(), absl::Seconds(5)),
            R"(["h",{"config":{"x":1},"config_generation":1},null])");
}

}  // namespace
}  // namespace zen
