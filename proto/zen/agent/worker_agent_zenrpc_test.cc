// End to end: the generated WorkerAgent::Stub calling a generated
// WorkerAgent::Service over a real authenticated loopback connection
// (ipc::Listener + handshake, rpc::Server dispatch, rpc::Channel), with the
// frames on the wire recorded in between: what the frames carry.
#include <future>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "proto/zen/agent/worker_agent_zenrpc_test_fixture.h"

namespace zen::agent {
namespace {

TEST_F(WorkerAgentEndToEndTest,
       StubSendsPositionalArgsAsTheReferenceClientDoes) {
  StartWithAgent();
  CalculateRateLimitsRequest request;
  request.mutable_route()->set_method("GET");
  request.mutable_route()->set_path("/api/users/:id");
  request.set_client_ip("203.0.113.7");
  request.mutable_actor()->set_id("u1");
  request.mutable_actor()->set_last_ip_address("198.51.100.2");
  request.mutable_actor()->set_first_seen_at(1700000000000);

  absl::StatusOr<CalculateRateLimitsResponse> response =
      stub_->CalculateRateLimits(request, Timeout());
  ASSERT_TRUE(response.ok()) << response.status();

  // The reference's handlers take positional parameters only; the actor
  // has its lowerCamel keys and its times are numbers.
  EXPECT_EQ(SplitRequest(LastRequest()),
            (std::vector<std::string>{
                "calculate_rate_limits",
                R"([{"method":"GET","path":"/api/users/:id"},"203.0.113.7",)"
                R"({"id":"u1","lastIpAddress":"198.51.100.2",)"
                R"("firstSeenAt":1700000000000}])",
                "{}"}))
      << LastRequest();
  EXPECT_EQ(SplitResponse(LastResponse()),
            (std::vector<std::string>{
                R"({"throttled":true,"discriminator":"203.0.113.7",)"
                R"("current_requests":3,"max_requests":2,"time_remaining":17})",
                "null"}))
      << LastResponse();
  EXPECT_TRUE(response->throttled());
  EXPECT_EQ(response->time_remaining(), 17);
  EXPECT_EQ(agent_.last_rate_request.actor().first_seen_at(), 1700000000000);
}

TEST_F(WorkerAgentEndToEndTest, RawJsonSettingsArriveByteForByte) {
  agent_.config =
      "{ \"block\" :true,\n\t\"endpoints\": [ {\"route\":\"/\\u00e9\" , "
      "\"rate\": 1.50e1 } ] ,\"x\":null }";
  StartWithAgent();
  absl::StatusOr<UpdatedSettingsResponse> response =
      stub_->UpdatedSettings(UpdatedSettingsRequest(), Timeout());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->config(), agent_.config);
  EXPECT_EQ(response->config_generation(), 3);
  EXPECT_FALSE(response->has_firewall_lists_generation());
  // Spliced into the frame as a JSON value, not re-serialized.
  EXPECT_EQ(SplitResponse(LastResponse())[0],
            "{\"config\":" + agent_.config + ",\"config_generation\":3}");
}

TEST_F(WorkerAgentEndToEndTest, UnchangedSettingsAreAnEmptyObject) {
  StartWithAgent();
  UpdatedSettingsRequest request;
  request.set_known_config_generation(3);
  absl::StatusOr<UpdatedSettingsResponse> response =
      stub_->UpdatedSettings(request, Timeout());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_FALSE(response->has_config_generation());
  EXPECT_EQ(SplitResponse(LastResponse())[0], "{}");
  // Positional, as the reference client sends them: a generation it does
  // not know is `null`.
  EXPECT_EQ(SplitRequest(LastRequest())[1], "[3,null]");
  EXPECT_EQ(SplitRequest(LastRequest())[2], "{}");
}

TEST_F(WorkerAgentEndToEndTest, PingAndNoRateLimitAnswerNull) {
  StartWithAgent();
  ASSERT_TRUE(stub_->Ping(PingRequest(), Timeout()).ok());
  EXPECT_EQ(SplitRequest(LastRequest()),
            (std::vector<std::string>{"ping", "[]", "{}"}));
  EXPECT_EQ(SplitResponse(LastResponse()),
            (std::vector<std::string>{"null", "null"}));

  CalculateRateLimitsRequest request;
  request.mutable_route()->set_path("/unlimited");
  absl::StatusOr<CalculateRateLimitsResponse> response =
      stub_->CalculateRateLimits(request, Timeout());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(SplitResponse(LastResponse())[0], "null");
  EXPECT_FALSE(response->has_throttled());
}

TEST_F(WorkerAgentEndToEndTest, AcceptsThePositionalArgsOfTheRubyClient) {
  StartWithAgent();
  absl::StatusOr<rpc::RawResult> result =
      channel_->Call("updated_settings", "[5, null]", "{}", Timeout());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(agent_.last_settings_request.known_config_generation(), 5);
  EXPECT_FALSE(
      agent_.last_settings_request.has_known_firewall_lists_generation());

  // The reference's actor keys are lowerCamel, its times numbers.
  result = channel_->Call(
      "calculate_rate_limits",
      R"([{"method":"POST","path":"/login"},"192.0.2.1",)"
      R"({"id":"7","name":"Ann","lastIpAddress":"192.0.2.1",)"
      R"("firstSeenAt":1700000000000,"lastSeenAt":1700000001000}])",
      "{}", Timeout());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(agent_.last_rate_request.route().path(), "/login");
  EXPECT_EQ(agent_.last_rate_request.client_ip(), "192.0.2.1");
  EXPECT_EQ(agent_.last_rate_request.actor().last_ip_address(), "192.0.2.1");
  EXPECT_EQ(agent_.last_rate_request.actor().last_seen_at(), 1700000001000);
}

TEST_F(WorkerAgentEndToEndTest, IgnoresUnknownFieldsFromANewerClient) {
  StartWithAgent();
  absl::StatusOr<rpc::RawResult> result = channel_->Call(
      "calculate_rate_limits", "[]",
      R"({"route":{"method":"GET","path":"/a","since_v9":[1,{"x":2}]},)"
      R"("client_ip":"192.0.2.9","priority":"high"})",
      Timeout());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(agent_.last_rate_request.route().path(), "/a");
  EXPECT_EQ(agent_.last_rate_request.client_ip(), "192.0.2.9");
}

TEST_F(WorkerAgentEndToEndTest, IgnoresUnknownFieldsFromANewerServer) {
  Start([](rpc::Server* server) {
    server->RegisterHandler("calculate_rate_limits", [](rpc::ServerCall& call) {
      call.Respond(
          R"({"throttled":false,"discriminator":"u1","current_requests":1,)"
          R"("max_requests":9,"time_remaining":60,"window":{"kind":"sliding"},)"
          R"("hints":["a","b"]})");
      return absl::OkStatus();
    });
    server->RegisterHandler("record_attack_wave", [](rpc::ServerCall& call) {
      call.Respond(R"([{"method":"GET","url":"/.env","score":0.9}])");
      return absl::OkStatus();
    });
  });
  absl::StatusOr<CalculateRateLimitsResponse> response =
      stub_->CalculateRateLimits(CalculateRateLimitsRequest(), Timeout());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->discriminator(), "u1");
  EXPECT_EQ(response->max_requests(), 9);

  absl::StatusOr<RecordAttackWaveResponse> wave =
      stub_->RecordAttackWave(RecordAttackWaveRequest(), Timeout());
  ASSERT_TRUE(wave.ok()) << wave.status();
  ASSERT_EQ(wave->samples_size(), 1);
  EXPECT_EQ(wave->samples(0).url(), "/.env");
}

}  // namespace
}  // namespace zen::agent
