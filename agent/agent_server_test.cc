// AgentServer's `updated_settings` as a worker sees it on the wire: whole
// response frames, read from a real authenticated connection, compared byte
// for byte with frames captured from the server before it spliced the cached
// text without re-validating or copying it.
#include "agent/agent_server.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "ipc/connector.h"
#include "ipc/socket_stream.h"
#include "testing/test_secret.h"

namespace zen {
namespace {

class AgentServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  // Starts a server. Connecting waits for the first Call: a test's setup
  // may take longer than the server's idle timeout on a loaded machine (a
  // 3 MB config under TSan did), and a connection opened before it would
  // then be closed as idle.
  void Start(AgentServerOptions options) {
    stream_.reset();
    secret_ = testing::TestSecret();
    server_ = *AgentServer::Create(&secret_, options);
    ASSERT_TRUE(server_->Start().ok());
  }

  // Sends one request frame and returns the response frame's body, on the
  // open connection or on a new one if there is none.
  std::string Call(absl::string_view request) {
    if (stream_ == nullptr) {
      ipc::ConnectorOptions connect;
      connect.port = server_->port();
      connect.stream.max_frame_size = size_t{64} << 20;
      absl::StatusOr<std::unique_ptr<ipc::SocketStream>> stream =
          ipc::Connect(secret_, connect, zen::Now() + absl::Seconds(5));
      if (!stream.ok()) return stream.status().ToString();
      stream_ = std::move(*stream);
    }
    if (!stream_->Write({&request, 1}, zen::Now() + absl::Seconds(5)).ok()) {
      return "write failed";
    }
    absl::StatusOr<ipc::Frame> frame =
        stream_->Read(zen::Now() + absl::Seconds(10));
    return frame.ok() ? std::string(frame->body) : frame.status().ToString();
  }

  ipc::Secret secret_;
  std::unique_ptr<AgentServer> server_;
  std::unique_ptr<ipc::SocketStream> stream_;
};

// A runtime config of at least `bytes` bytes, minified, which the parent's
// parser accepts: one endpoint per ~170 bytes.
std::string LargeConfig(size_t bytes) {
  std::string out = R"({"success":true,"block":false,"endpoints":[)";
  for (int i = 0; out.size() < bytes; ++i) {
    absl::StrAppendFormat(
        &out,
        R"(%s{"method":"GET","route":"/r%d","forceProtectionOff":false,)"
        R"("allowedIPAddresses":[],"rateLimiting":{"enabled":true,)"
        R"("maxRequests":%d,"windowSizeInMS":60000}})",
        i == 0 ? "" : ",", i, 1 + i % 50);
  }
  return out + "]}";
}

// Captured from the server as it was before splicing (commit 6b7b5b2).
TEST_F(AgentServerTest, UpdatedSettingsFrameIsByteForByteTheCachedText) {
  // Spacing, key order and escapes inside are the API's, kept as received;
  // whitespace around the value (a file's final newline) is not.
  ASSERT_TRUE(server_
                  ->UpdateConfig(R"( {"block": true, "endpoints" : [],)"
                                 R"( "x":"\u00e9\n"} )"
                                 "\n")
                  .ok());
  ASSERT_TRUE(
      server_->UpdateFirewallLists(R"({"blockedIPAddresses":[]})").ok());
  EXPECT_EQ(
      Call(R"(["a1","updated_settings",[],{}])"),
      R"(["a1",{"config":{"block": true, "endpoints" : [], "x":"\u00e9\n"},)"
      R"("config_generation":1,"firewall_lists":{"blockedIPAddresses":[]},)"
      R"("firewall_lists_generation":1},null])");
  // A child that knows both generations gets `{}`; one that knows only the
  // config gets only the lists (positional args, as the Ruby client sends).
  EXPECT_EQ(Call(R"(["a2","updated_settings",[1,1],{}])"), R"(["a2",{},null])");
  EXPECT_EQ(Call(R"(["a3","updated_settings",[1],{}])"),
            R"(["a3",{"firewall_lists":{"blockedIPAddresses":[]},)"
            R"("firewall_lists_generation":1},null])");
}

TEST_F(AgentServerTest, NothingCachedYetIsSentAsNull) {
  EXPECT_EQ(Call(R"(["b1","updated_settings",[],{}])"),
            R"(["b1",{"config":null,"config_generation":0,)"
            R"("firewall_lists":null,"firewall_lists_generation":0},null])");
}

TEST_F(AgentServerTest, EmptyConfigIsSentAsNull) {
  // Blank is `null`, which over nothing cached is no change (the
  // reference's nil == nil): generation 0 still.
  ASSERT_TRUE(server_->UpdateConfig("").ok());
  EXPECT_EQ(
      Call(
          R"(["c1","updated_settings",[],{"known_firewall_lists_generation":0}])"),
      R"(["c1",{"config":null,"config_generation":0},null])");
  ASSERT_TRUE(server_->UpdateConfig(R"({"block":true})").ok());
  ASSERT_TRUE(server_->UpdateConfig(" \n").ok());  // Blank: back to `null`.
  EXPECT_EQ(Call(R"(["c2","updated_settings",[null,0],{}])"),
            R"(["c2",{"config":null,"config_generation":2},null])");
}

// The cached text is spliced without being parsed again, so what is not one
// JSON value must never reach the cache.
TEST_F(AgentServerTest, TextThatIsNotOneJsonValueIsNeverCached) {
  ASSERT_TRUE(server_->UpdateConfig(R"({"block":true})").ok());
  ASSERT_TRUE(server_->UpdateFirewallLists("null").ok());
  for (const char* bad : {"{", R"({"block":true} x)", R"({"a":1}{"b":2})",
                          R"({"block":true,})", "// c\n{}", "NaN"}) {
    EXPECT_FALSE(server_->UpdateConfig(bad).ok()) << bad;
    EXPECT_FALSE(server_->UpdateFirewallLists(bad).ok()) << bad;
  }
  EXPECT_EQ(Call(R"(["f1","updated_settings",[],{}])"),
            R"(["f1",{"config":{"block":true},"config_generation":1,)"
            R"("firewall_lists":null,"firewall_lists_generation":0},null])");
}

TEST_F(AgentServerTest, LargeConfigIsSplicedWhole) {
  for (size_t bytes : {size_t{1} << 20, size_t{3} << 20}) {
    const std::string config = LargeConfig(bytes);
    // Building and caching the config can outlast the idle timeout (it did,
    // 9 s for both rounds under TSan at load 10): call on a new connection.
    stream_.reset();
    ASSERT_TRUE(server_->UpdateConfig(config).ok());
    const std::string generation = bytes == (size_t{1} << 20) ? "1" : "2";
    EXPECT_EQ(Call(R"(["d1","updated_settings",[],{}])"),
              absl::StrCat(R"(["d1",{"config":)", config,
                           R"(,"config_generation":)", generation,
                           R"(,"firewall_lists":null,)"
                           R"("firewall_lists_generation":0},null])"));
  }
}

TEST_F(AgentServerTest, ConfigOverTheFrameLimitIsAnsweredWithAnError) {
  AgentServerOptions options;
  options.server.listener.stream.max_frame_size = 4096;
  Start(options);
  ASSERT_TRUE(server_->UpdateConfig(LargeConfig(8192)).ok());
  const std::string response = Call(R"(["e1","updated_settings",[],{}])");
  EXPECT_EQ(response.rfind(R"(["e1",null,{"code":"RESOURCE_EXHAUSTED",)", 0),
            0u)
      << response;
  // The connection stays usable.
  EXPECT_EQ(Call(R"(["e2","ping",[],{}])"), R"(["e2",null,null])");
}

}  // namespace
}  // namespace zen
