#include "agent/model/runtime_settings.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kConfig[] = R"({
  "configUpdatedAt": 1000,
  "heartbeatIntervalInMS": 60000,
  "block": true,
  "endpoints": [{"method": "GET", "route": "/search",
                 "rateLimiting": {"enabled": true, "maxRequests": 3,
                                  "windowSizeInMS": 1000}}],
  "blockedUserIds": ["mallory"],
  "allowedIPAddresses": ["192.168.0.0/16"],
  "excludedUserIdsFromRateLimiting": ["ops"]
})";

constexpr char kLists[] = R"({
  "blockedIPAddresses": [{"key": "tor", "source": "tor",
                          "description": "Tor exit nodes",
                          "ips": ["1.2.3.4", "2001:db8::/32"]}],
  "allowedIPAddresses": [],
  "monitoredIPAddresses": [{"key": "watch", "ips": ["5.5.0.0/16"]}],
  "blockedUserAgents": "BadBot",
  "monitoredUserAgents": "curl",
  "userAgentDetails": [{"key": "badbot", "pattern": "badbot"}]
})";

RuntimeSettings ParseOrDie(absl::string_view config, absl::string_view lists) {
  absl::StatusOr<RuntimeSettings> settings =
      RuntimeSettings::Parse(config, lists);
  EXPECT_TRUE(settings.ok()) << settings.status();
  return settings.ok() ? *std::move(settings) : RuntimeSettings();
}

TEST(RuntimeSettingsTest, DefaultHasNeitherDocumentAndLimitsNothing) {
  RuntimeSettings settings;
  EXPECT_FALSE(settings.has_config());
  EXPECT_FALSE(settings.has_firewall_lists());
  EXPECT_FALSE(settings.block());
  EXPECT_EQ(settings.FindEndpoint("GET", "/"), nullptr);
  EXPECT_FALSE(settings.IsIpBlocked("1.2.3.4").has_value());
  EXPECT_TRUE(settings.IsIpAllowed("1.2.3.4"));
  EXPECT_FALSE(settings.IsUserAgentBlocked("BadBot"));
}

TEST(RuntimeSettingsTest, ParsesBothDocuments) {
  RuntimeSettings settings = ParseOrDie(kConfig, kLists);
  EXPECT_TRUE(settings.has_config());
  EXPECT_TRUE(settings.has_firewall_lists());
  EXPECT_EQ(settings.config_updated_at(), absl::FromUnixMillis(1000));
  EXPECT_EQ(settings.heartbeat_interval(), absl::Minutes(1));
  EXPECT_TRUE(settings.block());
  ASSERT_NE(settings.FindEndpoint("GET", "/search"), nullptr);
  EXPECT_EQ(settings.FindEndpoint("GET", "/search")->rate_limiting.max_requests,
            3);
  EXPECT_TRUE(settings.IsUserBlocked("mallory"));
  EXPECT_TRUE(settings.IsUserExcludedFromRateLimiting("ops"));
  EXPECT_TRUE(settings.IsIpBypassed("192.168.3.4"));
  EXPECT_FALSE(settings.IsIpBypassed("192.169.0.1"));
}

TEST(RuntimeSettingsTest, AnswersIpQueries) {
  RuntimeSettings settings = ParseOrDie(kConfig, kLists);
  std::optional<IpListInfo> blocked = settings.IsIpBlocked("1.2.3.4");
  ASSERT_TRUE(blocked.has_value());
  EXPECT_EQ(blocked->key, "tor");
  EXPECT_EQ(blocked->description, "Tor exit nodes");
  EXPECT_TRUE(settings.IsIpBlocked("::ffff:1.2.3.4").has_value());
  EXPECT_TRUE(settings.IsIpBlocked("2001:db8::1").has_value());
  EXPECT_FALSE(settings.IsIpBlocked("1.2.3.5").has_value());
  EXPECT_FALSE(settings.IsIpBlocked("garbage").has_value());
  EXPECT_TRUE(settings.IsIpAllowed("8.8.8.8"));  // no allowed lists
  EXPECT_THAT(settings.MonitoredIpLists("5.5.1.1"), ElementsAre("watch"));
  EXPECT_THAT(settings.MonitoredIpLists("garbage"), IsEmpty());

  const std::optional<IpAddress> parsed = IpAddress::Parse("5.5.1.1");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_THAT(settings.MonitoredIpLists(*parsed), ElementsAre("watch"));
  EXPECT_FALSE(settings.IsIpBlocked(*parsed).has_value());
  EXPECT_TRUE(settings.IsIpAllowed(*parsed));
}

TEST(RuntimeSettingsTest, AnswersUserAgentQueries) {
  RuntimeSettings settings = ParseOrDie(kConfig, kLists);
  EXPECT_TRUE(settings.IsUserAgentBlocked("Mozilla/5.0 badbot/1.0"));
  EXPECT_FALSE(settings.IsUserAgentBlocked("Mozilla/5.0"));
  EXPECT_TRUE(settings.IsUserAgentMonitored("curl/8"));
  EXPECT_THAT(settings.UserAgentDetails("BADBOT"), ElementsAre("badbot"));
}

TEST(RuntimeSettingsTest, ApplyConfigReplacesOnlyTheConfig) {
  RuntimeSettings settings = ParseOrDie(kConfig, kLists);
  ASSERT_TRUE(settings.ApplyConfig(R"({"block": false})").ok());
  EXPECT_FALSE(settings.block());
  EXPECT_EQ(settings.FindEndpoint("GET", "/search"), nullptr);
  EXPECT_TRUE(settings.IsIpBlocked("1.2.3.4").has_value());
}

TEST(RuntimeSettingsTest, ApplyFirewallListsReplacesOnlyTheLists) {
  RuntimeSettings settings = ParseOrDie(kConfig, kLists);
  ASSERT_TRUE(settings.ApplyFirewallLists("{}").ok());
  EXPECT_FALSE(settings.IsIpBlocked("1.2.3.4").has_value());
  EXPECT_TRUE(settings.block());
  EXPECT_NE(settings.FindEndpoint("GET", "/search"), nullptr);
}

TEST(RuntimeSettingsTest, MalformedConfigIsRejectedAndPreviousKept) {
  RuntimeSettings settings = ParseOrDie(kConfig, kLists);
  for (const char* bad :
       {R"({"block": false,)", R"({"block": false, "allowedIPAddresses":
           ["10.0.0.0/33"]})",
        R"({"block": false, "endpoints": [{"method": "GET"}]})"}) {
    absl::Status status = settings.ApplyConfig(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(status.message()), HasSubstr("runtime config"));
    EXPECT_TRUE(settings.block());
    EXPECT_NE(settings.FindEndpoint("GET", "/search"), nullptr);
    EXPECT_TRUE(settings.IsIpBypassed("192.168.1.1"));
  }
}

TEST(RuntimeSettingsTest, MalformedListsAreRejectedAndPreviousKept) {
  RuntimeSettings settings = ParseOrDie(kConfig, kLists);
  for (const char* bad :
       {"{\"blockedIPAddresses\": [", R"({"blockedIPAddresses": [
           {"key": "new", "ips": ["9.9.9.9", "9.9.9.0/240"]}]})",
        R"({"blockedUserAgents": "(("})"}) {
    absl::Status status = settings.ApplyFirewallLists(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(status.message()), HasSubstr("firewall lists"));
    EXPECT_TRUE(settings.IsIpBlocked("1.2.3.4").has_value());
    EXPECT_FALSE(settings.IsIpBlocked("9.9.9.9").has_value());
    EXPECT_TRUE(settings.IsUserAgentBlocked("BadBot"));
  }
}

TEST(RuntimeSettingsTest, ParseFailsIfEitherDocumentIsMalformed) {
  EXPECT_FALSE(RuntimeSettings::Parse("{", kLists).ok());
  EXPECT_FALSE(RuntimeSettings::Parse(kConfig, "{").ok());
  EXPECT_TRUE(RuntimeSettings::Parse("", "null").ok());
}

TEST(RuntimeSettingsTest, EmptyOrNullDocumentMeansNoneYet) {
  RuntimeSettings settings = ParseOrDie(kConfig, kLists);
  ASSERT_TRUE(settings.ApplyConfig("null").ok());
  EXPECT_FALSE(settings.has_config());
  EXPECT_FALSE(settings.block());
  ASSERT_TRUE(settings.ApplyFirewallLists("").ok());
  EXPECT_FALSE(settings.has_firewall_lists());
  EXPECT_FALSE(settings.IsIpBlocked("1.2.3.4").has_value());
}

TEST(RuntimeSettingsTest, KeepsTheAppliedTextsByteForByte) {
  RuntimeSettings settings;
  EXPECT_EQ(settings.config_json(), nullptr);
  EXPECT_EQ(settings.firewall_lists_json(), nullptr);
  settings = ParseOrDie(kConfig, kLists);
  ASSERT_NE(settings.config_json(), nullptr);
  EXPECT_EQ(*settings.config_json(), kConfig);
  ASSERT_NE(settings.firewall_lists_json(), nullptr);
  EXPECT_EQ(*settings.firewall_lists_json(), kLists);
  // A rejected document leaves the previous text; `null` clears it.
  EXPECT_FALSE(settings.ApplyConfig("{").ok());
  EXPECT_EQ(*settings.config_json(), kConfig);
  ASSERT_TRUE(settings.ApplyConfig(" null ").ok());
  EXPECT_EQ(settings.config_json(), nullptr);
  EXPECT_EQ(*settings.firewall_lists_json(), kLists);
}

TEST(RuntimeSettingsTest, CopiesAreIndependent) {
  RuntimeSettings original = ParseOrDie(kConfig, kLists);
  RuntimeSettings copy = original;
  ASSERT_TRUE(copy.ApplyConfig("{}").ok());
  ASSERT_TRUE(copy.ApplyFirewallLists("{}").ok());
  EXPECT_TRUE(original.block());
  EXPECT_TRUE(original.IsIpBlocked("1.2.3.4").has_value());
  EXPECT_FALSE(copy.block());
  EXPECT_FALSE(copy.IsIpBlocked("1.2.3.4").has_value());
}

// The documented pattern: readers load a shared_ptr<const RuntimeSettings>
// under a short lock; the writer copies, applies and publishes.
TEST(RuntimeSettingsTest, CopyOnWritePublicationIsSafeForConcurrentReaders) {
  Mutex mu;
  std::shared_ptr<const RuntimeSettings> current =
      std::make_shared<const RuntimeSettings>(ParseOrDie(kConfig, kLists));
  std::atomic<bool> stop{false};
  std::atomic<int> inconsistent{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        std::shared_ptr<const RuntimeSettings> settings;
        {
          MutexLock lock(&mu);
          settings = current;
        }
        // Every published version blocks 1.2.3.4 and has the endpoint.
        if (!settings->IsIpBlocked("1.2.3.4").has_value() ||
            settings->FindEndpoint("GET", "/search") == nullptr) {
          ++inconsistent;
        }
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    std::shared_ptr<const RuntimeSettings> old;
    {
      MutexLock lock(&mu);
      old = current;
    }
    auto next = std::make_shared<RuntimeSettings>(*old);
    ASSERT_TRUE(next->ApplyConfig(kConfig).ok());
    ASSERT_TRUE(next->ApplyFirewallLists(kLists).ok());
    MutexLock lock(&mu);
    current = std::move(next);
  }
  stop = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(inconsistent.load(), 0);
}

}  // namespace
}  // namespace zen
