// Per-method metrics of rpc::Server and rpc::Channel, over a real socket.
#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "testing/deadline.h"
#include "testing/rpc_fixture.h"
#include "testing/test_secret.h"

namespace zen::rpc {
namespace {

using ::zen::testing::Eventually;

constexpr int kUnknown = static_cast<int>(absl::StatusCode::kUnknown);
constexpr int kUnimplemented =
    static_cast<int>(absl::StatusCode::kUnimplemented);
constexpr int kDeadline = static_cast<int>(absl::StatusCode::kDeadlineExceeded);

TEST(CallMetricsTest, ServerAndChannelCountEveryCallByMethodAndCode) {
  const ipc::Secret secret = testing::TestSecret();
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Create(&secret);
  ASSERT_TRUE(server.ok()) << server.status();
  testing::RegisterBuiltinHandlers(server->get());
  ASSERT_TRUE((*server)->Start().ok());
  ChannelOptions options;
  options.connector.port = (*server)->port();
  absl::StatusOr<std::unique_ptr<Channel>> channel =
      Channel::Create(&secret, options);
  ASSERT_TRUE(channel.ok()) << channel.status();

  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE((*channel)->Call("echo", "[1]", "{}").ok());
  }
  EXPECT_FALSE((*channel)->Call("fail", "[]", "{}").ok());
  EXPECT_FALSE((*channel)->Call("fail", "[]", "{}").ok());
  EXPECT_TRUE((*channel)->Call("early", "[]", "{}").ok());  // Answers, works.
  EXPECT_FALSE((*channel)->Call("no_such_method", "[]", "{}").ok());
  EXPECT_FALSE((*channel)
                   ->Call("slow", "[0.3]", "{}",
                          CallOptions::WithTimeout(absl::Milliseconds(20)))
                   .ok());
  std::atomic<int> async_done{0};
  for (int i = 0; i < 3; ++i) {
    (*channel)->CallAsync("add", "[1,2]", "{}", {},
                          [&](absl::StatusOr<RawResult>) { ++async_done; });
  }
  ASSERT_TRUE(Eventually([&] { return async_done.load() == 3; }));

  const MetricsSnapshot client = (*channel)->method_metrics();
  EXPECT_EQ(client.at("echo").calls(), 5u);
  EXPECT_EQ(client.at("echo").codes[0], 5u);
  EXPECT_EQ(client.at("fail").codes[kUnknown], 2u);
  EXPECT_EQ(client.at("no_such_method").codes[kUnimplemented], 1u);
  EXPECT_EQ(client.at("slow").codes[kDeadline], 1u);
  EXPECT_EQ(client.at("add").calls(), 3u);
  // The client saw "early" answered at once, not after its 200 ms of work.
  EXPECT_LT(client.at("early").latency_sum_nanos, 150000000u);
  EXPECT_GT(client.at("echo").latency_sum_nanos, 0u);

  // The server counts a call when its handler returns: wait for the last
  // ones (slow, early, async adds).
  ASSERT_TRUE(Eventually([&] {
    const MetricsSnapshot s = (*server)->method_metrics();
    return s.at("slow").calls() == 1 && s.at("add").calls() == 3 &&
           s.at("early").calls() == 1;
  }));
  const MetricsSnapshot served = (*server)->method_metrics();
  EXPECT_EQ(served.at("echo").calls(), 5u);
  EXPECT_EQ(served.at("fail").codes[kUnknown], 2u);
  EXPECT_EQ(served.at("slow").codes[0], 1u);  // Its caller gave up, not it.
  EXPECT_GE(served.at("slow").latency_sum_nanos, 300000000u);
  EXPECT_GE(served.at("early").latency_sum_nanos, 200000000u);
  EXPECT_EQ(served.count("no_such_method"), 0u);  // Peers' names not kept.
  EXPECT_EQ(
      served.at(std::string(Server::kUnknownMethod)).codes[kUnimplemented], 1u);
  EXPECT_EQ(served.at("ping").calls(), 0u);  // Registered, never called.
  (*channel)->Stop();
  (*server)->Stop();
}

TEST(CallMetricsTest, CallRefusedBeforeSendingIsCountedWithItsCode) {
  const ipc::Secret secret = testing::TestSecret();
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Create(&secret);
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE((*server)->Start().ok());
  ChannelOptions options;
  options.connector.port = (*server)->port();
  absl::StatusOr<std::unique_ptr<Channel>> channel =
      Channel::Create(&secret, options);
  ASSERT_TRUE(channel.ok());
  (*channel)->Stop();
  EXPECT_EQ((*channel)->Call("echo", "[]", "{}").status().code(),
            absl::StatusCode::kCancelled);
  const MethodCounts echo = (*channel)->method_metrics().at("echo");
  EXPECT_EQ(echo.codes[static_cast<int>(absl::StatusCode::kCancelled)], 1u);
  EXPECT_LT(echo.latency_sum_nanos, 1000000000u);
}

}  // namespace
}  // namespace zen::rpc
