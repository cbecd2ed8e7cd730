#include "agent/model/firewall_lists.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kLists[] = R"({
  "success": true,
  "serviceId": 1,
  "blockedIPAddresses": [
    {"key": "geoip/BE", "source": "geoip", "description": "Belgium",
     "ips": ["1.2.3.0/24", "2001:db8::/32"]},
    {"key": "tor", "source": "tor", "description": "Tor exit nodes",
     "ips": ["1.2.3.4", "5.6.7.8"]}
  ],
  "allowedIPAddresses": [
    {"key": "office", "source": "custom", "description": "Office",
     "ips": ["10.0.0.0/8"]}
  ],
  "monitoredIPAddresses": [
    {"key": "known_threat_actors/a", "source": "threat", "description": "A",
     "ips": ["9.9.9.0/24"]},
    {"key": "known_threat_actors/b", "source": "threat", "description": "B",
     "ips": ["9.9.9.9", "fe80::/10"]}
  ],
  "blockedUserAgents": "AI2Bot|Bytespider",
  "monitoredUserAgents": "curl/\\d+",
  "userAgentDetails": [
    {"key": "ai2bot", "pattern": "AI2Bot"},
    {"key": "bytespider", "pattern": "Bytespider"},
    {"key": "any_bot", "pattern": "bot|spider"},
    {"key": null, "pattern": "skipped"},
    {"key": "no_pattern"}
  ]
})";

FirewallLists ParseOrDie(absl::string_view json) {
  absl::StatusOr<FirewallLists> lists = FirewallLists::Parse(json);
  EXPECT_TRUE(lists.ok()) << lists.status();
  return lists.ok() ? *std::move(lists) : FirewallLists();
}

IpAddress Ip(absl::string_view text) {
  std::optional<IpAddress> ip = IpAddress::Parse(text);
  EXPECT_TRUE(ip.has_value()) << text;
  return ip.value_or(IpAddress());
}

TEST(FirewallListsTest, FindsTheFirstBlockingListInDocumentOrder) {
  FirewallLists lists = ParseOrDie(kLists);
  EXPECT_TRUE(lists.present());
  const IpListInfo* list = lists.FindBlockingList(Ip("1.2.3.4"));
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->key, "geoip/BE");
  EXPECT_EQ(list->source, "geoip");
  EXPECT_EQ(list->description, "Belgium");
  ASSERT_NE(lists.FindBlockingList(Ip("5.6.7.8")), nullptr);
  EXPECT_EQ(lists.FindBlockingList(Ip("5.6.7.8"))->key, "tor");
  EXPECT_EQ(lists.FindBlockingList(Ip("1.2.4.1")), nullptr);
}

TEST(FirewallListsTest, BlocksIpv6AndMappedAddresses) {
  FirewallLists lists = ParseOrDie(kLists);
  EXPECT_NE(lists.FindBlockingList(Ip("2001:db8:1::1")), nullptr);
  EXPECT_EQ(lists.FindBlockingList(Ip("2001:db9::1")), nullptr);
  ASSERT_NE(lists.FindBlockingList(Ip("::ffff:5.6.7.8")), nullptr);
  EXPECT_EQ(lists.FindBlockingList(Ip("::ffff:5.6.7.8"))->key, "tor");
}

TEST(FirewallListsTest, AllowListsRestrictOnlyWhenPresent) {
  FirewallLists lists = ParseOrDie(kLists);
  EXPECT_TRUE(lists.has_allowed_lists());
  EXPECT_TRUE(lists.IsAllowed(Ip("10.20.30.40")));
  EXPECT_FALSE(lists.IsAllowed(Ip("11.0.0.1")));
  EXPECT_TRUE(lists.IsAllowed("10.0.0.1"));
  EXPECT_FALSE(lists.IsAllowed("not an ip"));

  FirewallLists open = ParseOrDie(R"({"allowedIPAddresses": []})");
  EXPECT_FALSE(open.has_allowed_lists());
  EXPECT_TRUE(open.IsAllowed(Ip("11.0.0.1")));
  EXPECT_TRUE(open.IsAllowed("not an ip"));
}

TEST(FirewallListsTest, ReportsEveryMonitoredListContainingTheAddress) {
  FirewallLists lists = ParseOrDie(kLists);
  EXPECT_THAT(lists.MonitoredListKeys(Ip("9.9.9.9")),
              ElementsAre("known_threat_actors/a", "known_threat_actors/b"));
  EXPECT_THAT(lists.MonitoredListKeys(Ip("9.9.9.1")),
              ElementsAre("known_threat_actors/a"));
  EXPECT_THAT(lists.MonitoredListKeys(Ip("fe80::1")),
              ElementsAre("known_threat_actors/b"));
  EXPECT_THAT(lists.MonitoredListKeys(Ip("8.8.8.8")), IsEmpty());
}

TEST(FirewallListsTest, MatchesUserAgentPatternsCaseInsensitivelyAnywhere) {
  FirewallLists lists = ParseOrDie(kLists);
  EXPECT_TRUE(lists.IsUserAgentBlocked("Mozilla/5.0 (compatible; AI2Bot)"));
  EXPECT_TRUE(lists.IsUserAgentBlocked("bytespider"));
  EXPECT_FALSE(lists.IsUserAgentBlocked("Mozilla/5.0 Firefox"));
  EXPECT_TRUE(lists.IsUserAgentMonitored("curl/8.1.2"));
  EXPECT_FALSE(lists.IsUserAgentMonitored("curl/x"));
}

TEST(FirewallListsTest, ReportsMatchingUserAgentDetailKeysInOrder) {
  FirewallLists lists = ParseOrDie(kLists);
  EXPECT_THAT(lists.UserAgentDetailKeys("Mozilla/5.0 (AI2Bot)"),
              ElementsAre("ai2bot", "any_bot"));
  EXPECT_THAT(lists.UserAgentDetailKeys("Bytespider"),
              ElementsAre("bytespider", "any_bot"));
  EXPECT_THAT(lists.UserAgentDetailKeys("Firefox"), IsEmpty());
  // Entries without key or pattern were skipped.
  EXPECT_THAT(lists.UserAgentDetailKeys("skipped"), IsEmpty());
}

TEST(FirewallListsTest, PathologicalUserAgentMatchesInLinearTime) {
  // Patterns that take a backtracking engine exponential time on these
  // inputs; RE2 answers in one linear pass.
  FirewallLists lists = ParseOrDie(
      R"({"blockedUserAgents": "(a+)+$", "monitoredUserAgents": "(x|x)*y"})");
  const absl::Time start = zen::Now();
  EXPECT_FALSE(lists.IsUserAgentBlocked(std::string(100000, 'a') + "!"));
  EXPECT_TRUE(lists.IsUserAgentBlocked(std::string(100000, 'a')));
  EXPECT_FALSE(lists.IsUserAgentMonitored(std::string(100000, 'x')));
  EXPECT_LT(zen::Now() - start, absl::Seconds(1));
}

TEST(FirewallListsTest, EmptyPatternsMeanNoPattern) {
  FirewallLists lists =
      ParseOrDie(R"({"blockedUserAgents": "", "monitoredUserAgents": null})");
  EXPECT_FALSE(lists.IsUserAgentBlocked(""));
  EXPECT_FALSE(lists.IsUserAgentBlocked("anything"));
  EXPECT_FALSE(lists.IsUserAgentMonitored("anything"));
}

TEST(FirewallListsTest, MissingKeysMeanEmptyLists) {
  FirewallLists lists = ParseOrDie("{}");
  EXPECT_TRUE(lists.present());
  EXPECT_EQ(lists.FindBlockingList(Ip("1.2.3.4")), nullptr);
  EXPECT_TRUE(lists.IsAllowed(Ip("1.2.3.4")));
  EXPECT_THAT(lists.MonitoredListKeys(Ip("1.2.3.4")), IsEmpty());
  EXPECT_FALSE(lists.IsUserAgentBlocked("AI2Bot"));
  EXPECT_THAT(lists.UserAgentDetailKeys("AI2Bot"), IsEmpty());

  FirewallLists list_without_ips =
      ParseOrDie(R"({"blockedIPAddresses": [{"key": "k"}]})");
  ASSERT_EQ(list_without_ips.blocked_lists().size(), 1u);
  EXPECT_TRUE(list_without_ips.blocked_lists()[0].ips.empty());
}

TEST(FirewallListsTest, EmptyOrNullDocumentMeansNoListsYet) {
  for (const char* json : {"", " ", "null"}) {
    FirewallLists lists = ParseOrDie(json);
    EXPECT_FALSE(lists.present()) << json;
    EXPECT_TRUE(lists.IsAllowed(Ip("1.2.3.4")));
  }
}

TEST(FirewallListsTest, IgnoresUnknownKeys) {
  FirewallLists lists = ParseOrDie(
      R"({"newList": [1, 2], "blockedIPAddresses": [
            {"key": "k", "ips": ["1.1.1.1"], "extra": {"a": true}}],
          "userAgentDetails": [{"key": "x", "pattern": "x", "weight": 3}]})");
  EXPECT_NE(lists.FindBlockingList(Ip("1.1.1.1")), nullptr);
}

struct BadLists {
  const char* json;
  const char* message;  // expected substring of the error
};

TEST(FirewallListsTest, RejectsMalformedDocumentsNamingTheEntry) {
  const BadLists cases[] = {
      {R"({"blockedIPAddresses": [)", "firewall lists: malformed JSON"},
      {"[1]", "firewall lists: expected an object"},
      {R"({"blockedIPAddresses": {}})",
       "firewall lists: blockedIPAddresses: expected an array"},
      {R"({"blockedIPAddresses": [{"key": "ok", "ips": ["1.1.1.1"]},
                                  {"key": "geo", "ips": ["1.1.1.1", "1.2.3.0/99"]}]})",
       "blockedIPAddresses[1] (key \"geo\").ips[1]: invalid IP address or CIDR "
       "block \"1.2.3.0/99\""},
      {R"({"monitoredIPAddresses": [{"key": "m", "ips": [42]}]})",
       "monitoredIPAddresses[0] (key \"m\").ips[0]: expected a string"},
      {R"({"allowedIPAddresses": [{"key": 5}]})",
       "allowedIPAddresses[0].key: expected a string"},
      {R"({"blockedUserAgents": ["a", "b"]})",
       "blockedUserAgents: expected a string"},
      {R"({"blockedUserAgents": "(unclosed"})",
       "blockedUserAgents: invalid regular expression"},
      {R"({"userAgentDetails": [{"key": "k", "pattern": "(?<=x)y"}]})",
       "userAgentDetails[0].pattern: invalid regular expression"},
      {R"({"userAgentDetails": [7]})",
       "userAgentDetails[0]: expected an object"},
  };
  for (const BadLists& bad : cases) {
    absl::StatusOr<FirewallLists> lists = FirewallLists::Parse(bad.json);
    ASSERT_FALSE(lists.ok()) << bad.json;
    EXPECT_EQ(lists.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(lists.status().message()), HasSubstr(bad.message));
  }
}

TEST(FirewallListsTest, LargeListsParseAndMatch) {
  std::string json = R"({"blockedIPAddresses": [{"key": "big", "ips": [)";
  for (int i = 0; i < 100000; ++i) {
    if (i > 0) json += ",";
    absl::StrAppend(&json, "\"", 100 + i / 65536, ".", (i / 256) % 256, ".",
                    i % 256, ".1\"");
  }
  json += "]}]}";
  FirewallLists lists = ParseOrDie(json);
  EXPECT_NE(lists.FindBlockingList(Ip("100.0.0.1")), nullptr);
  EXPECT_NE(lists.FindBlockingList(Ip("101.134.159.1")), nullptr);
  EXPECT_EQ(lists.FindBlockingList(Ip("100.0.0.2")), nullptr);
}

}  // namespace
}  // namespace zen
