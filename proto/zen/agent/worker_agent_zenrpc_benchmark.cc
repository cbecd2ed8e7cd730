// What the generated stubs add to a real call: calculate_rate_limits through
// WorkerAgent::Stub and a generated Service, against rpc::Channel::Call with
// the same JSON texts answered by a raw handler, both over loopback.
//   bazel run -c opt //proto/zen/agent:worker_agent_zenrpc_benchmark
#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "base/clock.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "testing/test_secret.h"

namespace zen::agent {
namespace {

constexpr char kResult[] =
    R"({"throttled":false,"discriminator":"203.0.113.7",)"
    R"("current_requests":3,"max_requests":100,"time_remaining":42})";

class Limiter : public WorkerAgent::Service {
  absl::Status CalculateRateLimits(
      codegen_runtime::ServerContext*,
      const CalculateRateLimitsRequest& request,
      CalculateRateLimitsResponse* response) override {
    response->set_throttled(false);
    response->set_discriminator(request.client_ip());
    response->set_current_requests(3);
    response->set_max_requests(100);
    response->set_time_remaining(42);
    return absl::OkStatus();
  }
};

// Microseconds per call over a block of `n` sequential calls.
double MicrosPerCall(int n, const std::function<bool()>& call) {
  const absl::Time start = zen::Now();
  for (int i = 0; i < n; ++i) {
    if (!call()) return -1;
  }
  return absl::ToDoubleMicroseconds(zen::Now() - start) / n;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int Run() {
  const ipc::Secret secret = testing::TestSecret();
  auto server = rpc::Server::Create(&secret);
  if (!server.ok()) return 1;
  Limiter limiter;
  limiter.RegisterOn(server->get());
  (*server)->RegisterHandler("raw_rate_limits", [](rpc::ServerCall& call) {
    call.Respond(kResult);
    return absl::OkStatus();
  });
  if (!(*server)->Start().ok()) return 1;
  rpc::ChannelOptions options;
  options.connector.port = (*server)->port();
  auto channel = rpc::Channel::Create(&secret, options);
  if (!channel.ok()) return 1;
  WorkerAgent::Stub stub(channel->get());

  CalculateRateLimitsRequest request;
  request.mutable_route()->set_method("GET");
  request.mutable_route()->set_path("/api/users/:id");
  request.set_client_ip("203.0.113.7");
  request.mutable_actor()->set_id("user-42");
  request.mutable_actor()->set_last_seen_at(1700000000000);
  const std::string kwargs =
      R"({"route":{"method":"GET","path":"/api/users/:id"},)"
      R"("client_ip":"203.0.113.7","actor":{"id":"user-42",)"
      R"("last_seen_at":"1700000000000"}})";

  // Alternating blocks, so that drift of the machine's load hits both.
  auto raw_call = [&] {
    return (*channel)->Call("raw_rate_limits", "[]", kwargs).ok();
  };
  auto typed_call = [&] { return stub.CalculateRateLimits(request).ok(); };
  MicrosPerCall(2000, raw_call);
  MicrosPerCall(2000, typed_call);
  std::vector<double> raw, typed;
  for (int block = 0; block < 40; ++block) {
    raw.push_back(MicrosPerCall(500, raw_call));
    typed.push_back(MicrosPerCall(500, typed_call));
  }
  std::printf(
      "median of 40 blocks of 500 calls: raw Channel::Call %.1f us, "
      "generated Stub+Service %.1f us (+%.1f us)\n",
      Median(raw), Median(typed), Median(typed) - Median(raw));
  (*channel)->Stop();
  (*server)->Stop();
  return 0;
}

}  // namespace
}  // namespace zen::agent

int main() { return zen::agent::Run(); }
