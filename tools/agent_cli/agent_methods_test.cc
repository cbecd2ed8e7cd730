#include "tools/agent_cli/agent_methods.h"

#include <string>

#include "gtest/gtest.h"
#include "proto/zen/agent/worker_agent.pb.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"

namespace zen::agent_cli {
namespace {

TEST(AgentMethodsTest, CoverEveryStubMethodInOrder) {
  const auto& methods = AgentMethods();
  ASSERT_EQ(methods.size(), agent::WorkerAgent::kMethodNames.size());
  for (size_t i = 0; i < methods.size(); ++i) {
    EXPECT_EQ(methods[i].wire_name, agent::WorkerAgent::kMethodNames[i]);
    EXPECT_EQ(FindAgentMethod(methods[i].wire_name), &methods[i]);
    EXPECT_EQ(methods[i].new_request()->GetDescriptor(),
              methods[i].descriptor->input_type());
    EXPECT_EQ(methods[i].new_response()->GetDescriptor(),
              methods[i].descriptor->output_type());
  }
  EXPECT_EQ(FindAgentMethod("CalculateRateLimits"), nullptr);
}

TEST(DecodeJsonArgsTest, PositionalArgsFillTheirFields) {
  const AgentMethod* method = FindAgentMethod("calculate_rate_limits");
  ASSERT_NE(method, nullptr);
  auto request = DecodeJsonArgs(
      *method, R"( [{"method":"GET","path":"/x"}, "1.2.3.4", null] )");
  ASSERT_TRUE(request.ok()) << request.status();
  const auto& typed =
      static_cast<const agent::CalculateRateLimitsRequest&>(**request);
  EXPECT_EQ(typed.route().method(), "GET");
  EXPECT_EQ(typed.route().path(), "/x");
  EXPECT_EQ(typed.client_ip(), "1.2.3.4");
  EXPECT_FALSE(typed.has_actor());
}

TEST(DecodeJsonArgsTest, AnObjectIsTheRequestsFields) {
  const AgentMethod* method = FindAgentMethod("updated_settings");
  ASSERT_NE(method, nullptr);
  auto request = DecodeJsonArgs(*method, R"({"known_config_generation":3})");
  ASSERT_TRUE(request.ok()) << request.status();
  const auto& typed =
      static_cast<const agent::UpdatedSettingsRequest&>(**request);
  EXPECT_EQ(typed.known_config_generation(), 3);
  EXPECT_FALSE(typed.has_known_firewall_lists_generation());
}

TEST(DecodeJsonArgsTest, RejectsWhatIsNotAnArrayOrObjectThatFits) {
  const AgentMethod* method = FindAgentMethod("calculate_rate_limits");
  ASSERT_NE(method, nullptr);
  for (const char* bad :
       {"", " ", "\"x\"", "42", "null", "[", "[1,]", "[] []", "{\"a\":}",
        "[\"not a route\"]", "[{\"method\":1}]"}) {
    auto request = DecodeJsonArgs(*method, bad);
    EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

// The codec built from descriptors answers as the generated one does.
TEST(CodecFromDescriptorTest, FollowsTheMethodsOptions) {
  std::string out;
  ASSERT_TRUE(FindAgentMethod("ping")
                  ->codec->EncodeResult(agent::PingResponse(), &out)
                  .ok());
  EXPECT_EQ(out, "null");

  const AgentMethod* wave = FindAgentMethod("record_attack_wave");
  agent::RecordAttackWaveResponse samples;
  out.clear();
  ASSERT_TRUE(wave->codec->EncodeResult(samples, &out).ok());
  EXPECT_EQ(out, "null");
  samples.add_samples()->set_url("/.env");
  out.clear();
  ASSERT_TRUE(wave->codec->EncodeResult(samples, &out).ok());
  EXPECT_EQ(out, R"([{"url":"/.env"}])");

  agent::UpdatedSettingsResponse settings;
  settings.set_config(R"({"a": [1]})");
  settings.set_config_generation(2);
  out.clear();
  ASSERT_TRUE(FindAgentMethod("updated_settings")
                  ->codec->EncodeResult(settings, &out)
                  .ok());
  EXPECT_EQ(out, R"({"config":{"a": [1]},"config_generation":2})");
}

}  // namespace
}  // namespace zen::agent_cli
