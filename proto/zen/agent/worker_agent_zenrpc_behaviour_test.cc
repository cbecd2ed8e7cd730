// End to end: the generated WorkerAgent::Stub calling a generated
// WorkerAgent::Service over a real authenticated loopback connection:
// errors and their codes, early answers, the async stub, wire names.
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

TEST_F(WorkerAgentEndToEndTest, AnswersInvalidArgumentToARequestItCannotParse) {
  StartWithAgent();
  absl::StatusOr<rpc::RawResult> result =
      channel_->Call("updated_settings", "[]",
                     R"({"known_config_generation":"many"})", Timeout());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
      << result.status();
  EXPECT_NE(result.status().message().find("known_config_generation"),
            absl::string_view::npos)
      << result.status();
  result = channel_->Call("calculate_rate_limits", "[]", R"({"route":"GET /"})",
                          Timeout());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(LastResponse().find("\"INVALID_ARGUMENT\""), std::string::npos);
}

TEST_F(WorkerAgentEndToEndTest, RespondNowAnswersBeforeTheMethodFinishes) {
  std::promise<void> release;
  agent_.hold_after_responding = release.get_future().share();
  StartWithAgent();
  SendCollectorEventsRequest request;
  request.set_events(R"([{"type":"track_request"},{"type":"track_attack"}])");
  absl::StatusOr<SendCollectorEventsResponse> response =
      stub_->SendCollectorEvents(request, Timeout());
  // Answered while the method is still working.
  EXPECT_TRUE(response.ok()) << response.status();
  EXPECT_FALSE(agent_.handler_finished);
  EXPECT_EQ(agent_.events_received, 2);
  EXPECT_EQ(SplitResponse(LastResponse()),
            (std::vector<std::string>{"null", "null"}));
  release.set_value();
}

TEST_F(WorkerAgentEndToEndTest, AttackWaveSamplesTravelAsABareArray) {
  StartWithAgent();
  RecordAttackWaveRequest request;
  request.set_client_ip("192.0.2.66");
  request.set_verb("GET");
  request.set_path("/wp-admin");
  absl::StatusOr<RecordAttackWaveResponse> first =
      stub_->RecordAttackWave(request, Timeout());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->samples_size(), 0);
  EXPECT_EQ(SplitResponse(LastResponse())[0], "null");

  absl::StatusOr<RecordAttackWaveResponse> second =
      stub_->RecordAttackWave(request, Timeout());
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->samples_size(), 2);
  EXPECT_EQ(second->samples(1).url(), "/wp-admin");
  EXPECT_EQ(SplitResponse(LastResponse())[0],
            R"([{"method":"GET","url":"/wp-admin"},)"
            R"({"method":"GET","url":"/wp-admin"}])");
}

TEST_F(WorkerAgentEndToEndTest, MethodsNotImplementedAnswerUnimplemented) {
  PingOnlyAgent agent;
  Start([&agent](rpc::Server* server) { agent.RegisterOn(server); });
  EXPECT_TRUE(stub_->Ping(PingRequest(), Timeout()).ok());
  absl::StatusOr<RecordAttackWaveResponse> response =
      stub_->RecordAttackWave(RecordAttackWaveRequest(), Timeout());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(response.status().message(),
            "method 'record_attack_wave' is not implemented by this server");
  // Stop serving before `agent` goes.
  TearDown();
  channel_.reset();
  listener_.reset();
  server_.reset();
}

TEST_F(WorkerAgentEndToEndTest, MethodErrorsReachTheCallerWithTheirCode) {
  StartWithAgent();
  CalculateRateLimitsRequest request;
  request.mutable_route()->set_path("/forbidden");
  absl::StatusOr<CalculateRateLimitsResponse> response =
      stub_->CalculateRateLimits(request, Timeout());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(response.status().message(), "not for you");
}

TEST_F(WorkerAgentEndToEndTest, AResponseThatIsNotJsonIsAnInternalError) {
  agent_.config = "{\"unterminated\": ";
  StartWithAgent();
  absl::StatusOr<UpdatedSettingsResponse> response =
      stub_->UpdatedSettings(UpdatedSettingsRequest(), Timeout());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInternal)
      << response.status();
  // The connection survives the failed call.
  EXPECT_TRUE(stub_->Ping(PingRequest(), Timeout()).ok());
}

TEST_F(WorkerAgentEndToEndTest, AsyncStubDeliversTheResultOnce) {
  StartWithAgent();
  CalculateRateLimitsRequest request;
  request.set_client_ip("192.0.2.44");
  std::promise<absl::StatusOr<CalculateRateLimitsResponse>> done;
  std::atomic<int> calls{0};
  stub_->CalculateRateLimitsAsync(
      request, Timeout(),
      [&](absl::StatusOr<CalculateRateLimitsResponse> response) {
        if (calls.fetch_add(1) == 0) done.set_value(std::move(response));
      });
  absl::StatusOr<CalculateRateLimitsResponse> response =
      done.get_future().get();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->discriminator(), "192.0.2.44");
  EXPECT_EQ(calls, 1);
}

TEST_F(WorkerAgentEndToEndTest, WireNameConstantsAreTheWireNames) {
  EXPECT_EQ(
      WorkerAgent::kMethodNames,
      (std::array<absl::string_view, 7>{
          "ping", "updated_settings", "watch_settings", "send_collector_events",
          "calculate_rate_limits", "record_attack_wave", "report_metrics"}));
}

}  // namespace
}  // namespace zen::agent
