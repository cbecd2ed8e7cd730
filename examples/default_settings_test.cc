#include "examples/default_settings.h"

#include "agent/model/runtime_settings.h"
#include "gtest/gtest.h"

namespace zen {
namespace examples {
namespace {

// The embedded documents must stay valid: the server refuses to start
// without its first settings.
TEST(DefaultSettingsTest, DocumentsParseAndSayWhatTheyPromise) {
  absl::StatusOr<RuntimeSettings> settings =
      RuntimeSettings::Parse(kDefaultConfigJson, kDefaultFirewallListsJson);
  ASSERT_TRUE(settings.ok()) << settings.status();
  const EndpointSettings* limited =
      settings->FindEndpoint("GET", "/api/limited");
  ASSERT_NE(limited, nullptr);
  EXPECT_TRUE(limited->rate_limiting.enabled);
  EXPECT_EQ(limited->rate_limiting.max_requests, 10);
  EXPECT_EQ(limited->rate_limiting.window, absl::Seconds(60));
  ASSERT_NE(settings->FindEndpoint("POST", "/api/login"), nullptr);
  EXPECT_TRUE(settings->IsUserBlocked("mallory"));
  EXPECT_TRUE(settings->IsIpBlocked("192.0.2.44").has_value());
  EXPECT_FALSE(settings->IsIpBlocked("203.0.113.66").has_value());
  EXPECT_EQ(settings->MonitoredIpLists("198.18.0.7"),
            std::vector<std::string>{"demo/load_testers"});
  EXPECT_TRUE(settings->IsUserAgentBlocked("Mozilla/5.0 Bytespider"));
  EXPECT_EQ(settings->UserAgentDetails("cpp-httplib/0.11.4"),
            std::vector<std::string>{"cpp-httplib"});
}

}  // namespace
}  // namespace examples
}  // namespace zen
