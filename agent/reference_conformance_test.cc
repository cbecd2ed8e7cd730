// Conformance with the reference Ruby agent (aikido-zen 1.8.0), method by
// method, both ways (docs/protocol.md, "What each method means"; event
// types are in reference_event_conformance_test.cc):
//
// * the reference's JSON (fixtures written by hand from its as_json, with
//   real values) decodes through our generated codecs to the right typed
//   values, units included;
// * our encoders turn those values back into JSON that the reference's
//   from_json reads to the same values: the same keys with the same JSON
//   types (compared as JSON values, key order aside), nothing it would
//   read as nil;
// * the real AgentServer answers the reference client's request bytes
//   with the result the reference server would send.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "agent/agent_server.h"
#include "agent/event_conversion.h"
#include "base/clock.h"
#include "codegen_runtime/descriptor_codec.h"
#include "codegen_runtime/padded_json.h"
#include "gtest/gtest.h"
#include "proto/zen/agent/worker_agent.pb.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/channel.h"
#include "testing/agent/reference_events.h"
#include "testing/same_json.h"
#include "testing/test_secret.h"

namespace zen {
namespace {

namespace pb = google::protobuf;

using ::zen::testing::EventCase;
using ::zen::testing::ReferenceEvents;
using ::zen::testing::SameJson;

// ---- Method codecs, as the generated stubs build them -----------------

const codegen_runtime::MethodCodec& Codec(absl::string_view wire_name) {
  static const auto* codecs = [] {
    auto* out =
        new std::vector<std::unique_ptr<const codegen_runtime::MethodCodec>>;
    const pb::ServiceDescriptor* service =
        agent::PingRequest::descriptor()->file()->FindServiceByName(
            "WorkerAgent");
    for (int i = 0; i < service->method_count(); ++i) {
      out->push_back(codegen_runtime::MethodCodecFromDescriptor(
          agent::WorkerAgent::kMethodNames[i], service->method(i)));
    }
    return out;
  }();
  for (const auto& codec : *codecs) {
    if (codec->wire_name() == wire_name) return *codec;
  }
  ADD_FAILURE() << "no method " << wire_name;
  std::abort();
}

// What the reference client sends: positional args, no kwargs.
template <typename Request>
Request DecodeArgs(absl::string_view method, const std::string& args) {
  Request request;
  const codegen_runtime::PaddedJsonString padded_args(args);
  const codegen_runtime::PaddedJsonString no_kwargs("{}");
  absl::Status status = Codec(method).DecodeRequest(padded_args.view(),
                                                    no_kwargs.view(), &request);
  EXPECT_TRUE(status.ok()) << status;
  return request;
}

// What our stub sends: must be the reference client's args, kwargs empty.
std::string EncodeArgs(absl::string_view method, const pb::Message& request) {
  std::string args, kwargs;
  absl::Status status = Codec(method).EncodeRequest(request, &args, &kwargs);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(kwargs, "{}") << "a reference handler would get a stray Hash";
  return args;
}

template <typename Response>
Response DecodeResult(absl::string_view method, const std::string& result) {
  Response response;
  const codegen_runtime::PaddedJsonString padded(result);
  absl::Status status = Codec(method).DecodeResult(padded.view(), &response);
  EXPECT_TRUE(status.ok()) << status;
  return response;
}

std::string EncodeResult(absl::string_view method, const pb::Message& r) {
  std::string result;
  absl::Status status = Codec(method).EncodeResult(r, &result);
  EXPECT_TRUE(status.ok()) << status;
  return result;
}

// ---- ping ---------------------------------------------------------------

TEST(ReferenceConformanceTest, Ping) {
  // Client: invoke("ping", 4) sends no argument; the answer is nil.
  DecodeArgs<agent::PingRequest>("ping", "[]");
  EXPECT_EQ(EncodeArgs("ping", agent::PingRequest()), "[]");
  EXPECT_EQ(EncodeResult("ping", agent::PingResponse()), "null");
  DecodeResult<agent::PingResponse>("ping", "null");
}

// ---- updated_settings ---------------------------------------------------

TEST(ReferenceConformanceTest, UpdatedSettingsArgs) {
  // The generations the worker knows, nil until it applied a non-nil value.
  for (const char* args : {"[null,null]", "[5,9]", "[5,null]", "[null,9]"}) {
    const auto request =
        DecodeArgs<agent::UpdatedSettingsRequest>("updated_settings", args);
    EXPECT_EQ(EncodeArgs("updated_settings", request), args);
  }
  const auto known =
      DecodeArgs<agent::UpdatedSettingsRequest>("updated_settings", "[5,null]");
  EXPECT_EQ(known.known_config_generation(), 5);
  EXPECT_FALSE(known.has_known_firewall_lists_generation());
}

TEST(ReferenceConformanceTest, UpdatedSettingsResult) {
  // The reference parent with a config and no lists, polled with [nil, nil].
  const std::string result =
      R"({"config":{"success":true,"endpoints":[]},"config_generation":1,)"
      R"("firewall_lists":null,"firewall_lists_generation":0})";
  const auto response =
      DecodeResult<agent::UpdatedSettingsResponse>("updated_settings", result);
  EXPECT_EQ(response.config(), R"({"success":true,"endpoints":[]})");
  EXPECT_EQ(response.config_generation(), 1);
  EXPECT_EQ(response.firewall_lists(), "null");
  ASSERT_TRUE(response.has_firewall_lists_generation());
  EXPECT_EQ(response.firewall_lists_generation(), 0);
  EXPECT_TRUE(SameJson(EncodeResult("updated_settings", response), result));
  // Nothing changed: {}.
  EXPECT_EQ(EncodeResult("updated_settings", agent::UpdatedSettingsResponse()),
            "{}");
}

// ---- calculate_rate_limits ----------------------------------------------

// Route#as_json, the IP, Actor#as_json (times in ms, nil keys dropped).
constexpr char kRateLimitArgsWithActor[] =
    R"([{"method":"POST","path":"/login"},"203.0.113.7",)"
    R"({"id":"u1","name":"Ann","lastIpAddress":"203.0.113.7",)"
    R"("firstSeenAt":1700000000000,"lastSeenAt":1700000060000}])";
constexpr char kRateLimitArgsWithoutActor[] =
    R"([{"method":"GET","path":"/api/items"},"198.51.100.4",null])";

TEST(ReferenceConformanceTest, CalculateRateLimitsArgs) {
  const auto with_actor = DecodeArgs<agent::CalculateRateLimitsRequest>(
      "calculate_rate_limits", kRateLimitArgsWithActor);
  EXPECT_EQ(with_actor.route().method(), "POST");
  EXPECT_EQ(with_actor.route().path(), "/login");
  EXPECT_EQ(with_actor.client_ip(), "203.0.113.7");
  EXPECT_EQ(with_actor.actor().id(), "u1");
  EXPECT_EQ(with_actor.actor().name(), "Ann");
  EXPECT_EQ(with_actor.actor().last_ip_address(), "203.0.113.7");
  EXPECT_EQ(with_actor.actor().first_seen_at(), 1700000000000);  // ms
  EXPECT_EQ(with_actor.actor().last_seen_at(), 1700000060000);
  EXPECT_TRUE(SameJson(EncodeArgs("calculate_rate_limits", with_actor),
                       kRateLimitArgsWithActor));

  const auto without = DecodeArgs<agent::CalculateRateLimitsRequest>(
      "calculate_rate_limits", kRateLimitArgsWithoutActor);
  EXPECT_FALSE(without.has_actor());
  EXPECT_TRUE(SameJson(EncodeArgs("calculate_rate_limits", without),
                       kRateLimitArgsWithoutActor));

  // An actor with no name or IP: the keys are dropped, not sent as nil.
  const std::string compact =
      R"([{"method":"GET","path":"/"},"192.0.2.1",)"
      R"({"id":"u2","firstSeenAt":1700000000000,"lastSeenAt":1700000000000}])";
  EXPECT_TRUE(SameJson(EncodeArgs("calculate_rate_limits",
                                  DecodeArgs<agent::CalculateRateLimitsRequest>(
                                      "calculate_rate_limits", compact)),
                       compact));
}

TEST(ReferenceConformanceTest, CalculateRateLimitsResult) {
  // RateLimiter::Result#as_json: time_remaining in whole seconds.
  const std::string result =
      R"({"throttled":true,"discriminator":"actor:u1","current_requests":3,)"
      R"("max_requests":3,"time_remaining":42})";
  const auto response = DecodeResult<agent::CalculateRateLimitsResponse>(
      "calculate_rate_limits", result);
  EXPECT_TRUE(response.throttled());
  EXPECT_EQ(response.discriminator(), "actor:u1");
  EXPECT_EQ(response.time_remaining(), 42);
  EXPECT_TRUE(
      SameJson(EncodeResult("calculate_rate_limits", response), result));
  // Not throttled is sent as false, not dropped.
  const std::string admitted =
      R"({"throttled":false,"discriminator":"198.51.100.4",)"
      R"("current_requests":1,"max_requests":3,"time_remaining":60})";
  EXPECT_TRUE(
      SameJson(EncodeResult("calculate_rate_limits",
                            DecodeResult<agent::CalculateRateLimitsResponse>(
                                "calculate_rate_limits", admitted)),
               admitted));
  EXPECT_EQ(EncodeResult("calculate_rate_limits",
                         agent::CalculateRateLimitsResponse()),
            "null");  // No limit applies.
}

// ---- record_attack_wave -------------------------------------------------

TEST(ReferenceConformanceTest, RecordAttackWave) {
  const std::string args = R"(["203.0.113.9","GET","/.env"])";
  const auto request =
      DecodeArgs<agent::RecordAttackWaveRequest>("record_attack_wave", args);
  EXPECT_EQ(request.client_ip(), "203.0.113.9");
  EXPECT_EQ(request.verb(), "GET");
  EXPECT_EQ(request.path(), "/.env");
  EXPECT_EQ(EncodeArgs("record_attack_wave", request), args);

  // Sample#as_json, the bare array; nil while no wave.
  const std::string result =
      R"([{"method":"GET","url":"/.env"},{"method":"POST","url":"/wp-login.php"}])";
  const auto samples = DecodeResult<agent::RecordAttackWaveResponse>(
      "record_attack_wave", result);
  ASSERT_EQ(samples.samples_size(), 2);
  EXPECT_EQ(samples.samples(1).url(), "/wp-login.php");
  EXPECT_TRUE(SameJson(EncodeResult("record_attack_wave", samples), result));
  EXPECT_EQ(
      EncodeResult("record_attack_wave", agent::RecordAttackWaveResponse()),
      "null");
}

// ---- send_collector_events and every event type -------------------------

TEST(ReferenceConformanceTest, SendCollectorEventsArgs) {
  // One positional argument, the array of Event#as_json; the answer nil.
  const std::string args = R"([[{"type":"track_request"}]])";
  const auto request = DecodeArgs<agent::SendCollectorEventsRequest>(
      "send_collector_events", args);
  EXPECT_EQ(request.events(), R"([{"type":"track_request"}])");
  EXPECT_EQ(EncodeArgs("send_collector_events", request), args);
  EXPECT_EQ(EncodeResult("send_collector_events",
                         agent::SendCollectorEventsResponse()),
            "null");
}

// ---- The real AgentServer answers the reference client's bytes ---------

class ReferenceClientAgainstAgentServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = *AgentServer::Create(&secret_);
    ASSERT_TRUE(server_
                    ->UpdateConfig(R"({"success":true,"endpoints":[)"
                                   R"({"method":"POST","route":"/login",)"
                                   R"("forceProtectionOff":false,)"
                                   R"("rateLimiting":{"enabled":true,)"
                                   R"("maxRequests":2,)"
                                   R"("windowSizeInMS":60000}}]})")
                    .ok());
    ASSERT_TRUE(server_->Start().ok());
    rpc::ChannelOptions options;
    options.connector.port = server_->port();
    channel_ = *rpc::Channel::Create(&secret_, options);
  }
  void TearDown() override {
    channel_->Stop();
    server_->Stop();
  }

  // The reference client's invoke: positional args, empty kwargs.
  std::string Invoke(absl::string_view method, absl::string_view args) {
    absl::StatusOr<rpc::RawResult> result = channel_->Call(
        method, args, "{}", rpc::CallOptions::WithTimeout(absl::Seconds(5)));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? std::string(result->json()) : "";
  }

  ipc::Secret secret_ = testing::TestSecret();
  std::unique_ptr<AgentServer> server_;
  std::unique_ptr<rpc::Channel> channel_;
};

TEST_F(ReferenceClientAgainstAgentServerTest, AnswersAsTheReferenceServer) {
  EXPECT_EQ(Invoke("ping", "[]"), "null");
  // No lists yet: null at generation 0, on every poll with [gen, nil].
  const std::string settings = Invoke("updated_settings", "[null,null]");
  EXPECT_TRUE(SameJson(
      settings, R"({"config":{"success":true,"endpoints":[{"method":)"
                R"("POST","route":"/login","forceProtectionOff":false,)"
                R"("rateLimiting":{"enabled":true,"maxRequests":2,)"
                R"("windowSizeInMS":60000}}]},"config_generation":1,)"
                R"("firewall_lists":null,"firewall_lists_generation":0})"));
  EXPECT_EQ(Invoke("updated_settings", "[1,null]"),
            R"({"firewall_lists":null,"firewall_lists_generation":0})");
  EXPECT_EQ(Invoke("updated_settings", "[1,0]"), "{}");

  // Per actor, whole seconds, and the throttled call is not counted.
  for (int i = 1; i <= 2; ++i) {
    EXPECT_TRUE(SameJson(
        Invoke("calculate_rate_limits", kRateLimitArgsWithActor),
        absl::StrCat(R"({"throttled":false,"discriminator":"actor:u1",)"
                     R"("current_requests":)",
                     i, R"(,"max_requests":2,"time_remaining":60})")));
  }
  EXPECT_TRUE(SameJson(
      Invoke("calculate_rate_limits", kRateLimitArgsWithActor),
      R"({"throttled":true,"discriminator":"actor:u1",)"
      R"("current_requests":2,"max_requests":2,"time_remaining":60})"));
  // The same IP without the actor has its own window.
  EXPECT_TRUE(SameJson(
      Invoke("calculate_rate_limits",
             R"([{"method":"POST","path":"/login"},"203.0.113.7",null])"),
      R"({"throttled":false,"discriminator":"203.0.113.7",)"
      R"("current_requests":1,"max_requests":2,"time_remaining":60})"));
  EXPECT_EQ(Invoke("calculate_rate_limits", kRateLimitArgsWithoutActor),
            "null");  // No limit on that route.

  for (int i = 1; i < 15; ++i) {
    EXPECT_EQ(Invoke("record_attack_wave", R"(["203.0.113.9","GET","/.env"])"),
              "null");
  }
  EXPECT_EQ(
      Invoke("record_attack_wave", R"(["203.0.113.9","GET","/.git"])"),
      R"([{"method":"GET","url":"/.env"},{"method":"GET","url":"/.git"}])");
  EXPECT_EQ(Invoke("record_attack_wave", R"(["203.0.113.9","GET","/.env"])"),
            "null");  // Flagged.

  // Every reference event type, folded; the unreadable one counted.
  std::string events = "[";
  for (const EventCase& c : ReferenceEvents()) {
    absl::StrAppend(&events, events.size() > 1 ? "," : "", c.json);
  }
  absl::StrAppend(&events, R"(,{"type":"track_teleport"}])");
  EXPECT_EQ(Invoke("send_collector_events", absl::StrCat("[", events, "]")),
            "null");
  const absl::Time deadline = zen::Now() + absl::Seconds(5);
  while (server_->unreadable_events() == 0 && zen::Now() < deadline) {
    zen::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(server_->unreadable_events(), 1u);
  const CollectorStats stats = server_->collector().Snapshot();
  EXPECT_EQ(stats.requests, 1u);
  EXPECT_EQ(stats.rate_limited_requests, 1u);
  EXPECT_EQ(stats.attacks_detected, 1u);
  EXPECT_EQ(stats.attacks_blocked, 1u);
  EXPECT_EQ(stats.attack_waves_detected, 1u);
  EXPECT_EQ(stats.invalid_events, 0u);
}

// The report that a wildcard endpoint went unlimited: the reference's
// parent answered the first call below with exactly this.
TEST_F(ReferenceClientAgainstAgentServerTest, WildcardEndpointsAsTheReference) {
  const auto config = [](int max_requests) {
    return absl::StrCat(R"({"endpoints":[{"method":"*","route":"/api/wild/*",)"
                        R"("allowedIPAddresses":["203.0.113.0/24"],)"
                        R"("rateLimiting":{"enabled":true,"maxRequests":)",
                        max_requests, R"(,"windowSizeInMS":10000}}]})");
  };
  ASSERT_TRUE(server_->UpdateConfig(config(2)).ok());
  constexpr char kWild[] =
      R"([{"method":"GET","path":"/api/wild/anything"},"203.0.113.7",null])";
  EXPECT_TRUE(
      SameJson(Invoke("calculate_rate_limits", kWild),
               R"({"current_requests":1,"discriminator":"203.0.113.7",)"
               R"("max_requests":2,"throttled":false,"time_remaining":10})"));
  EXPECT_TRUE(SameJson(
      Invoke("calculate_rate_limits",
             R"([{"method":"POST","path":"/API/wild/a/b/"},"203.0.113.7",)"
             R"(null])"),
      R"({"throttled":false,"discriminator":"203.0.113.7",)"
      R"("current_requests":2,"max_requests":2,"time_remaining":10})"));
  // New limits: a fresh window, as the reference's new bucket.
  ASSERT_TRUE(server_->UpdateConfig(config(3)).ok());
  EXPECT_TRUE(SameJson(
      Invoke("calculate_rate_limits", kWild),
      R"({"throttled":false,"discriminator":"203.0.113.7",)"
      R"("current_requests":1,"max_requests":3,"time_remaining":10})"));
  EXPECT_EQ(
      Invoke("calculate_rate_limits",
             R"([{"method":"GET","path":"/api/wildx"},"203.0.113.7",null])"),
      "null");
}

}  // namespace
}  // namespace zen
