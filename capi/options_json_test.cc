#include "capi/options_json.h"

#include <signal.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace zen::capi {
namespace {

using ::testing::HasSubstr;

TEST(OptionsJsonTest, EmptyTextAndEmptyObjectGiveTheDefaults) {
  for (const char* text : {"", "  \n", "{}"}) {
    absl::StatusOr<AgentOptions> options = ParseAgentOptions(text);
    ASSERT_TRUE(options.ok()) << text << ": " << options.status();
    EXPECT_EQ(options->client.call_timeout, AgentClientOptions().call_timeout);
    EXPECT_FALSE(options->exit_with_parent);
  }
}

TEST(OptionsJsonTest, ReadsEveryLevel) {
  absl::StatusOr<AgentOptions> options = ParseAgentOptions(R"({
    "transport": "unix", "require_descendant": true,
    "exit_with_parent": true, "exit_with_parent_signal": 2,
    "server": {"idle_timeout_ms": 7000, "max_connections": 9,
               "spin_before_block_ms": 0.05},
    "collector": {"max_routes": 3},
    "rate_limiter": {"max_tracked_windows": 11},
    "attack_wave": {"threshold": 4, "cooldown_ms": 1000},
    "worker_metrics": {"max_methods": 5},
    "client": {"rate_limit_timeout_ms": 250, "watch_settings": false,
               "attack_wave": {"max_samples": 2}, "host": null}
  })");
  // "host" under client is not an option: refused even when null.
  ASSERT_FALSE(options.ok());
  EXPECT_THAT(std::string(options.status().message()),
              HasSubstr("'client.host'"));

  options = ParseAgentOptions(R"({
    "transport": "unix", "require_descendant": true,
    "exit_with_parent": true, "exit_with_parent_signal": 2,
    "server": {"idle_timeout_ms": 7000, "max_connections": 9,
               "spin_before_block_ms": 0.05},
    "collector": {"max_routes": 3},
    "rate_limiter": {"max_tracked_windows": 11},
    "attack_wave": {"threshold": 4, "cooldown_ms": 1000},
    "worker_metrics": {"max_methods": 5},
    "client": {"rate_limit_timeout_ms": 250, "watch_settings": false,
               "attack_wave": {"max_samples": 2}}
  })");
  ASSERT_TRUE(options.ok()) << options.status();
  const ipc::ListenerOptions& listener = options->server.server.listener;
  EXPECT_EQ(listener.transport, ipc::Transport::kUnix);
  EXPECT_TRUE(listener.require_descendant);
  EXPECT_TRUE(options->exit_with_parent);
  EXPECT_EQ(options->exit_with_parent_signal, SIGINT);
  EXPECT_EQ(options->server.server.idle_timeout, absl::Seconds(7));
  EXPECT_EQ(listener.max_connections, 9u);
  EXPECT_EQ(listener.stream.spin_before_block, absl::Microseconds(50));
  EXPECT_EQ(options->server.collector.max_routes, 3u);
  EXPECT_EQ(options->server.rate_limiter.max_tracked_windows, 11u);
  EXPECT_EQ(options->server.attack_wave.threshold, 4u);
  EXPECT_EQ(options->server.attack_wave.cooldown, absl::Seconds(1));
  EXPECT_EQ(options->server.worker_metrics.max_methods, 5u);
  EXPECT_EQ(options->client.rate_limit_timeout, absl::Milliseconds(250));
  EXPECT_FALSE(options->client.watch_settings);
  EXPECT_EQ(options->client.attack_wave.max_samples, 2u);
}

TEST(OptionsJsonTest, ReadsTheRateLimitZone) {
  absl::StatusOr<AgentOptions> defaults = ParseAgentOptions("{}");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_TRUE(defaults->rate_limit_zone.enabled);
  EXPECT_EQ(defaults->rate_limit_zone.bytes, RateLimitZoneOptions().bytes);
  EXPECT_EQ(defaults->rate_limit_zone.max_requests_per_window,
            RateLimitZoneOptions().max_requests_per_window);
  absl::StatusOr<AgentOptions> options = ParseAgentOptions(R"({
    "rate_limit_zone": {"enabled": false, "bytes": 1048576,
                        "max_requests_per_window": 1000,
                        "lock_timeout_ms": 250}})");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_FALSE(options->rate_limit_zone.enabled);
  EXPECT_EQ(options->rate_limit_zone.bytes, size_t{1} << 20);
  EXPECT_EQ(options->rate_limit_zone.max_requests_per_window, 1000u);
  EXPECT_EQ(options->rate_limit_zone.lock_timeout, absl::Milliseconds(250));
  // Turned off by size too.
  options = ParseAgentOptions(R"({"rate_limit_zone": {"bytes": 0}})");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->rate_limit_zone.bytes, 0u);
}

TEST(OptionsJsonTest, UnknownKeysAreRefusedByName) {
  absl::StatusOr<AgentOptions> options =
      ParseAgentOptions(R"({"prot": 1, "client": {}, "colour": "red"})");
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(options.status().message(), "unknown options 'prot', 'colour'");
  options = ParseAgentOptions(R"({"server": {"idle_timeout": 5}})");
  EXPECT_EQ(options.status().message(), "unknown option 'server.idle_timeout'");
}

TEST(OptionsJsonTest, WrongTypesAndRangesNameTheKey) {
  struct Case {
    const char* json;
    const char* message;
  } cases[] = {
      {R"({"port": 70000})", "'port'"},
      {R"({"port": "80"})", "'port'"},
      {R"({"transport": "udp"})", "'transport'"},
      {R"({"client": {"call_timeout_ms": -1}})", "'client.call_timeout_ms'"},
      {R"({"client": {"call_timeout_ms": 1e300}})", "'client.call_timeout_ms'"},
      {R"({"client": {"watch_settings": 1}})", "'client.watch_settings'"},
      {R"({"collector": {"max_routes": -3}})", "'collector.max_routes'"},
      {R"({"collector": []})", "'collector'"},
      {R"({"exit_with_parent_signal": 0})", "'exit_with_parent_signal'"},
      {R"({"rate_limit_zone": {"bytes": -1}})", "'rate_limit_zone.bytes'"},
      {R"({"rate_limit_zone": {"enabled": "no"}})",
       "'rate_limit_zone.enabled'"},
      {R"({"rate_limit_zone": {"max_requests_per_window": 0}})",
       "'rate_limit_zone.max_requests_per_window'"},
      {R"({"rate_limit_zone": {"max_requests_per_window": 1048577}})",
       "'rate_limit_zone.max_requests_per_window'"},
      {R"({"rate_limit_zone": {"size": 1}})", "'rate_limit_zone.size'"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<AgentOptions> options = ParseAgentOptions(c.json);
    ASSERT_FALSE(options.ok()) << c.json;
    EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(options.status().message()), HasSubstr(c.message))
        << c.json;
  }
}

TEST(OptionsJsonTest, TextThatIsNotOneObjectIsRefused) {
  for (const char* text : {"{", "[]", "3", "{} {}", "{\"a\":1,}", "null"}) {
    absl::StatusOr<AgentOptions> options = ParseAgentOptions(text);
    ASSERT_FALSE(options.ok()) << text;
    EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace zen::capi
