// A worker's malformed calls are answered (or counted) one by one, but
// logged at most once per interval: 100 watch_settings calls whose wait_ms
// does not decode, and 100 event batches of unreadable events, make one
// WARNING line of each kind, and the rest are counted as suppressed.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "agent/agent_server.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mutex.h"
#include "gtest/gtest.h"
#include "ipc/connector.h"
#include "ipc/socket_stream.h"
#include "testing/test_secret.h"

namespace zen {
namespace {

constexpr int kCalls = 100;

// Captures the warnings logged while it lives, from any thread.
class CapturedWarnings {
 public:
  CapturedWarnings() {
    previous_ = SetLogSink([this](LogLevel level, absl::string_view line) {
      if (level != LogLevel::kWarning) return;
      MutexLock lock(&mu_);
      lines_.emplace_back(line);
    });
  }
  ~CapturedWarnings() { SetLogSink(std::move(previous_)); }
  int Count(absl::string_view containing) {
    MutexLock lock(&mu_);
    int n = 0;
    for (const std::string& line : lines_)
      n += absl::StrContains(line, containing);
    return n;
  }

 private:
  LogSink previous_;
  Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

class MalformedCallLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    secret_ = testing::TestSecret();
    server_ = *AgentServer::Create(&secret_);
    ASSERT_TRUE(server_->Start().ok());
    ipc::ConnectorOptions connect;
    connect.port = server_->port();
    auto stream = ipc::Connect(secret_, connect, zen::Now() + absl::Seconds(5));
    ASSERT_TRUE(stream.ok()) << stream.status();
    stream_ = std::move(*stream);
  }
  void TearDown() override { server_->Stop(); }

  // Sends `request` and returns the answer's text.
  std::string Call(const std::string& request) {
    absl::string_view body = request;
    EXPECT_TRUE(stream_->Write({&body, 1}, zen::Now() + absl::Seconds(5)).ok());
    auto frame = stream_->Read(zen::Now() + absl::Seconds(10));
    return frame.ok() ? std::string(frame->body) : frame.status().ToString();
  }

  ipc::Secret secret_;
  std::unique_ptr<AgentServer> server_;
  std::unique_ptr<ipc::SocketStream> stream_;
};

TEST_F(MalformedCallLogTest, ABadWaitIsAnsweredEachTimeButLoggedOnce) {
  CapturedWarnings warnings;
  for (int i = 0; i < kCalls; ++i) {
    const std::string answer = Call(
        absl::StrCat(R"(["b)", i, R"(","watch_settings",[0,0,"soon"],{}])"));
    EXPECT_TRUE(absl::StrContains(answer, "INVALID_ARGUMENT")) << answer;
  }
  // The whole loop takes well under the 10 s interval on any machine this
  // runs on; two lines at most even if it did not.
  EXPECT_GE(warnings.Count("watch_settings"), 1);
  EXPECT_LE(warnings.Count("watch_settings"), 2);
  EXPECT_GE(server_->server_stats().warnings_suppressed,
            static_cast<uint64_t>(kCalls - 2));
}

TEST_F(MalformedCallLogTest, UnreadableEventsAreCountedEachTimeButLoggedOnce) {
  CapturedWarnings warnings;
  for (int i = 0; i < kCalls; ++i) {
    EXPECT_EQ(Call(absl::StrCat(R"(["e)", i,
                                R"(","send_collector_events",[[1,"x"]],{}])")),
              absl::StrCat(R"(["e)", i, R"(",null,null])"));
  }
  // Acknowledged before folded: wait until every batch is counted.
  const absl::Time give_up = zen::Now() + absl::Seconds(10);
  while (server_->unreadable_events() < 2 * kCalls && zen::Now() < give_up) {
    zen::SleepFor(absl::Milliseconds(2));
  }
  EXPECT_EQ(server_->unreadable_events(), static_cast<uint64_t>(2 * kCalls));
  EXPECT_GE(warnings.Count("unreadable events"), 1);
  EXPECT_LE(warnings.Count("unreadable events"), 2);
  EXPECT_GE(server_->warnings_suppressed(), static_cast<uint64_t>(kCalls - 2));
}

}  // namespace
}  // namespace zen
