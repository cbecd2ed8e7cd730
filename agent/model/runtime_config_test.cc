#include "agent/model/runtime_config.h"

#include <string>

#include "gtest/gtest.h"

namespace zen {
namespace {

constexpr char kConfig[] = R"({
  "success": true,
  "serviceId": 42,
  "configUpdatedAt": 1700000000123,
  "heartbeatIntervalInMS": 30000,
  "block": true,
  "receivedAnyStats": true,
  "endpoints": [
    {"method": "POST", "route": "/login", "forceProtectionOff": false,
     "allowedIPAddresses": ["10.0.0.0/8"],
     "rateLimiting": {"enabled": true, "maxRequests": 5,
                      "windowSizeInMS": 60000},
     "graphql": null},
    {"method": "*", "route": "/login", "forceProtectionOff": true,
     "rateLimiting": {"enabled": false, "maxRequests": 100,
                      "windowSizeInMS": 1000}},
    {"method": "*", "route": "/api", "rateLimiting": null},
    {"method": "GET", "route": "/api"}
  ],
  "blockedUserIds": ["bad", 123],
  "allowedIPAddresses": ["1.2.3.4", "2001:db8::/32"],
  "excludedUserIdsFromRateLimiting": ["admin"]
})";

RuntimeConfig ParseOrDie(absl::string_view json) {
  absl::StatusOr<RuntimeConfig> config = RuntimeConfig::Parse(json);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *std::move(config) : RuntimeConfig();
}

TEST(RuntimeConfigTest, ParsesEveryField) {
  RuntimeConfig config = ParseOrDie(kConfig);
  EXPECT_TRUE(config.present());
  EXPECT_EQ(config.updated_at(), absl::FromUnixMillis(1700000000123));
  EXPECT_EQ(config.heartbeat_interval(), absl::Seconds(30));
  EXPECT_TRUE(config.block());
  ASSERT_EQ(config.endpoints().size(), 4u);

  const EndpointSettings& login = config.endpoints()[0];
  EXPECT_EQ(login.method, "POST");
  EXPECT_EQ(login.route, "/login");
  EXPECT_FALSE(login.force_protection_off);
  EXPECT_TRUE(login.allowed_ips.Contains("10.1.2.3"));
  EXPECT_TRUE(login.rate_limiting.enabled);
  EXPECT_EQ(login.rate_limiting.max_requests, 5);
  EXPECT_EQ(login.rate_limiting.window, absl::Minutes(1));
  EXPECT_TRUE(config.endpoints()[1].force_protection_off);

  EXPECT_TRUE(config.IsUserBlocked("bad"));
  EXPECT_TRUE(config.IsUserBlocked("123"));
  EXPECT_FALSE(config.IsUserBlocked("good"));
  EXPECT_TRUE(config.IsUserExcludedFromRateLimiting("admin"));
  EXPECT_FALSE(config.IsUserExcludedFromRateLimiting("bad"));
  EXPECT_TRUE(config.IsIpBypassed("1.2.3.4"));
  EXPECT_TRUE(config.IsIpBypassed("::ffff:1.2.3.4"));
  EXPECT_TRUE(config.IsIpBypassed("2001:db8::99"));
  EXPECT_FALSE(config.IsIpBypassed("1.2.3.5"));
}

TEST(RuntimeConfigTest, MissingKeysTakeDefaults) {
  RuntimeConfig config = ParseOrDie("{}");
  EXPECT_TRUE(config.present());
  EXPECT_EQ(config.updated_at(), absl::UnixEpoch());
  EXPECT_EQ(config.heartbeat_interval(),
            RuntimeConfig::kDefaultHeartbeatInterval);
  EXPECT_FALSE(config.block());
  EXPECT_TRUE(config.endpoints().empty());
  EXPECT_EQ(config.FindEndpoint("GET", "/"), nullptr);
  EXPECT_FALSE(config.IsUserBlocked(""));
  EXPECT_FALSE(config.IsIpBypassed("1.2.3.4"));
}

TEST(RuntimeConfigTest, NullValuesTakeDefaults) {
  RuntimeConfig config = ParseOrDie(
      R"({"configUpdatedAt": null, "heartbeatIntervalInMS": null,
          "block": null, "endpoints": null, "blockedUserIds": null,
          "allowedIPAddresses": null})");
  EXPECT_EQ(config.heartbeat_interval(),
            RuntimeConfig::kDefaultHeartbeatInterval);
  EXPECT_FALSE(config.block());
}

TEST(RuntimeConfigTest, EmptyOrNullDocumentMeansNoConfigYet) {
  for (const char* json : {"", "  \n", "null", " null "}) {
    RuntimeConfig config = ParseOrDie(json);
    EXPECT_FALSE(config.present()) << json;
    EXPECT_FALSE(config.block());
  }
}

TEST(RuntimeConfigTest, IgnoresUnknownKeys) {
  RuntimeConfig config = ParseOrDie(
      R"({"block": true, "futureFeature": {"nested": [1, 2, {"x": null}]},
          "endpoints": [{"method": "GET", "route": "/", "newKey": "v",
                         "rateLimiting": {"enabled": true, "maxRequests": 1,
                                          "windowSizeInMS": 10,
                                          "burst": 3}}]})");
  EXPECT_TRUE(config.block());
  ASSERT_NE(config.FindEndpoint("GET", "/"), nullptr);
}

TEST(RuntimeConfigTest, FindEndpointPrefersExactMethodOverWildcard) {
  RuntimeConfig config = ParseOrDie(kConfig);
  const EndpointSettings* post = config.FindEndpoint("POST", "/login");
  ASSERT_NE(post, nullptr);
  EXPECT_EQ(post->method, "POST");
  const EndpointSettings* lower = config.FindEndpoint("post", "/login");
  EXPECT_EQ(lower, post);
  const EndpointSettings* get = config.FindEndpoint("GET", "/login");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->method, "*");
  // The exact method wins even when the star method comes first.
  const EndpointSettings* api = config.FindEndpoint("GET", "/api");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->method, "GET");
}

TEST(RuntimeConfigTest, FindEndpointMatchesRoutesAsPatterns) {
  // The matching rules have their table in endpoint_matcher_test.cc; here,
  // that the config's endpoints are what is matched.
  RuntimeConfig config = ParseOrDie(kConfig);
  EXPECT_EQ(config.FindEndpoint("POST", "/login/"), &config.endpoints()[0]);
  EXPECT_EQ(config.FindEndpoint("POST", "/LOGIN"), &config.endpoints()[0]);
  EXPECT_EQ(config.FindEndpoint("POST", "/"), nullptr);
  RuntimeConfig wild = ParseOrDie(
      R"({"endpoints": [
           {"method": "*", "route": "/api/wild/*",
            "rateLimiting": {"enabled": true, "maxRequests": 2,
                             "windowSizeInMS": 10000}},
           {"method": "GET", "route": "/api/*/list"}]})");
  const EndpointSettings* found =
      wild.FindEndpoint("GET", "/api/wild/anything");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->route, "/api/wild/*");
  EXPECT_TRUE(found->rate_limiting.enabled);
  // Both match; the earlier star comes first, whatever the document says.
  EXPECT_EQ(wild.FindEndpoint("GET", "/api/wild/list"), &wild.endpoints()[1]);
  EXPECT_EQ(wild.FindEndpoint("GET", "/apix"), nullptr);
}

TEST(RuntimeConfigTest, DuplicateEndpointsLastWins) {
  RuntimeConfig config = ParseOrDie(
      R"({"endpoints": [
           {"method": "GET", "route": "/", "forceProtectionOff": true},
           {"method": "GET", "route": "/", "forceProtectionOff": false}]})");
  ASSERT_EQ(config.FindEndpoint("GET", "/"), &config.endpoints()[1]);
  EXPECT_FALSE(config.IsProtectionForcedOff("GET", "/"));
}

TEST(RuntimeConfigTest, ProtectionIsOffWhenAnyMatchingEndpointTurnsItOff) {
  RuntimeConfig config = ParseOrDie(
      R"({"endpoints": [
           {"method": "GET", "route": "/admin/users"},
           {"method": "*", "route": "/admin/*", "forceProtectionOff": true}]})");
  // The request's own endpoint keeps protection on; a broader one turns it
  // off, as the reference's "all matching endpoints protected" rule.
  EXPECT_EQ(config.FindEndpoint("GET", "/admin/users"), &config.endpoints()[0]);
  EXPECT_TRUE(config.IsProtectionForcedOff("GET", "/admin/users"));
  EXPECT_TRUE(config.IsProtectionForcedOff("POST", "/admin/x"));
  EXPECT_FALSE(config.IsProtectionForcedOff("GET", "/public"));
}

TEST(RuntimeConfigTest, EndpointAllowListsAdmitAnAddressAnyMatchingOneHas) {
  RuntimeConfig config = ParseOrDie(
      R"({"endpoints": [
           {"method": "GET", "route": "/admin/users",
            "allowedIPAddresses": ["10.0.0.1"]},
           {"method": "*", "route": "/admin/*",
            "allowedIPAddresses": ["192.168.0.0/16"]},
           {"method": "*", "route": "/open/*"}]})");
  const auto allowed = [&](absl::string_view route, absl::string_view ip) {
    return config.IsIpAllowedOnRoute("GET", route, IpAddress::Parse(ip));
  };
  EXPECT_TRUE(allowed("/admin/users", "10.0.0.1"));
  EXPECT_TRUE(allowed("/admin/users", "192.168.1.1"));
  EXPECT_FALSE(allowed("/admin/users", "10.0.0.2"));
  EXPECT_FALSE(allowed("/admin/other", "10.0.0.1"));
  EXPECT_TRUE(allowed("/admin/other", "192.168.1.1"));
  EXPECT_FALSE(allowed("/admin/other", "not an address"));
  EXPECT_TRUE(allowed("/open/x", "not an address"));
  EXPECT_TRUE(allowed("/unlisted", "10.0.0.2"));
}

TEST(RuntimeConfigTest, CopiesAreIndependentAndStillFindEndpoints) {
  RuntimeConfig original = ParseOrDie(kConfig);
  RuntimeConfig copy = original;
  original = RuntimeConfig();
  const EndpointSettings* post = copy.FindEndpoint("POST", "/login");
  ASSERT_NE(post, nullptr);
  EXPECT_EQ(post, &copy.endpoints()[0]);
}

struct BadConfig {
  const char* json;
  const char* message;  // expected substring of the error
};

TEST(RuntimeConfigTest, RejectsMalformedDocumentsNamingTheProblem) {
  const BadConfig cases[] = {
      {"{", "runtime config: malformed JSON"},
      {"[]", "runtime config: expected an object"},
      {"\"text\"", "expected an object"},
      {R"({"block": "yes"})", "runtime config: block: expected a boolean"},
      {R"({"heartbeatIntervalInMS": 0})", "heartbeatIntervalInMS"},
      {R"({"heartbeatIntervalInMS": 1.5})", "heartbeatIntervalInMS"},
      {R"({"configUpdatedAt": "soon"})", "configUpdatedAt"},
      {R"({"endpoints": {}})", "endpoints: expected an array"},
      {R"({"endpoints": [5]})", "endpoints[0]: expected an object"},
      {R"({"endpoints": [{"route": "/"}]})", "endpoints[0]: an endpoint needs"},
      {R"({"endpoints": [{"method": "GET", "route": "/"},
                         {"method": "GET", "route": "/x",
                          "rateLimiting": {"maxRequests": -1}}]})",
       "endpoints[1].rateLimiting.maxRequests"},
      {R"({"endpoints": [{"method": "GET", "route": "/",
                          "rateLimiting": {"enabled": true,
                                           "maxRequests": 1}}]})",
       "endpoints[0].rateLimiting.windowSizeInMS"},
      // 1e13 ms overflowed a nanosecond sum; 3e9 would not fit the wire's
      // 32-bit max_requests.
      {R"({"endpoints": [{"method": "GET", "route": "/",
                          "rateLimiting": {"enabled": true, "maxRequests": 1,
                                           "windowSizeInMS": 10000000000000}}]})",
       "endpoints[0].rateLimiting.windowSizeInMS: at most"},
      {R"({"endpoints": [{"method": "GET", "route": "/",
                          "rateLimiting": {"enabled": true,
                                           "maxRequests": 3000000000,
                                           "windowSizeInMS": 1000}}]})",
       "endpoints[0].rateLimiting.maxRequests: at most"},
      {R"({"endpoints": [{"method": "GET", "route": "/",
                          "allowedIPAddresses": ["1.2.3.4", "1.2.3.4/40"]}]})",
       "endpoints[0].allowedIPAddresses[1]: invalid IP address or CIDR block "
       "\"1.2.3.4/40\""},
      {R"({"allowedIPAddresses": ["bogus"]})",
       "allowedIPAddresses[0]: invalid IP address"},
      {R"({"allowedIPAddresses": [7]})",
       "allowedIPAddresses[0]: expected a string"},
      {R"({"blockedUserIds": [true]})", "blockedUserIds[0]"},
  };
  for (const BadConfig& bad : cases) {
    absl::StatusOr<RuntimeConfig> config = RuntimeConfig::Parse(bad.json);
    ASSERT_FALSE(config.ok()) << bad.json;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(config.status().message().find(bad.message),
              absl::string_view::npos)
        << config.status() << " should mention " << bad.message;
  }
}

TEST(RuntimeConfigTest, DisabledRateLimitMayHaveZeroWindow) {
  RuntimeConfig config = ParseOrDie(
      R"({"endpoints": [{"method": "GET", "route": "/",
          "rateLimiting": {"enabled": false, "maxRequests": 0,
                           "windowSizeInMS": 0}}]})");
  EXPECT_FALSE(config.FindEndpoint("GET", "/")->rate_limiting.enabled);
}

TEST(RuntimeConfigTest, RejectsOversizedDocument) {
  std::string huge = "[";
  huge.append(RuntimeConfig::kMaxDocumentBytes, ' ');
  huge += "]";
  EXPECT_EQ(RuntimeConfig::Parse(huge).status().code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace zen
