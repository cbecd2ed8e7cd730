#include "bench/rate_limits_call.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/agent_server.h"
#include "ipc/secret.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/channel.h"

namespace zen::bench {
namespace {

// A route limited per IP, to a maximum no run reaches (1,000 IPs share the
// calls): every call takes the admitted path, which counts the request.
constexpr char kConfig[] = R"({
  "configUpdatedAt": 1,
  "endpoints": [{"method": "POST", "route": "/login", "forceProtectionOff": false,
                 "rateLimiting": {"enabled": true, "maxRequests": 1000000,
                                  "windowSizeInMS": 60000}}]
})";
constexpr int kClientIps = 1000;

// 16 exact routes and 4 wildcard routes that the request's route does not
// match, all tried before the one it does (routes without `*` first, then
// longer ones), and that one.
std::string WildcardConfig() {
  constexpr absl::string_view kLimit =
      R"("rateLimiting": {"enabled": true, "maxRequests": 1000000,
                          "windowSizeInMS": 60000}})";
  std::string config = R"({"configUpdatedAt": 1, "endpoints": [)";
  for (int i = 0; i < 16; ++i) {
    absl::StrAppend(&config, R"({"method": "POST", "route": "/login)", i,
                    R"(", )", kLimit, ",");
  }
  for (int i = 0; i < 4; ++i) {
    absl::StrAppend(&config, R"({"method": "GET", "route": "/api/wild/*/v)", i,
                    R"(", )", kLimit, ",");
  }
  absl::StrAppend(&config, R"({"method": "*", "route": "/api/wild/*", )",
                  kLimit, "]}");
  return config;
}

}  // namespace

int RunRateLimitsCall(Placement placement, int warmup, int calls, int threads,
                      int mt_calls, bool wildcard, EchoFigures* out) {
  absl::StatusOr<ipc::Secret> secret = ipc::Secret::Generate();
  if (!secret.ok()) return 1;
  absl::StatusOr<std::unique_ptr<AgentServer>> server =
      AgentServer::Create(&*secret);
  if (!server.ok() ||
      !(*server)->UpdateConfig(wildcard ? WildcardConfig() : kConfig).ok() ||
      !(*server)->Start().ok()) {
    return 1;
  }
  const uint16_t port = (*server)->port();
  const pid_t pid = ForkChild([&] {
    // As a real child does: forget the parent's server, connect lazily.
    server->release()->AbandonAfterFork();
    PinToCpu(ClientCpu(placement));
    rpc::ChannelOptions options;
    options.connector.port = port;
    absl::StatusOr<std::unique_ptr<rpc::Channel>> channel =
        rpc::Channel::Create(&*secret, options);
    if (!channel.ok()) {
      std::fprintf(stderr, "zen: %s\n", channel.status().ToString().c_str());
      return 1;
    }
    agent::WorkerAgent::Stub stub(channel->get());
    std::vector<agent::CalculateRateLimitsRequest> requests(kClientIps);
    for (int i = 0; i < kClientIps; ++i) {
      requests[i].mutable_route()->set_method(wildcard ? "GET" : "POST");
      requests[i].mutable_route()->set_path(wildcard ? "/api/wild/anything"
                                                     : "/login");
      requests[i].set_client_ip(absl::StrCat("10.0.", i / 256, ".", i % 256));
    }
    auto call = [&](int i) {
      thread_local agent::CalculateRateLimitsResponse response;
      return stub.CalculateRateLimits(requests[i % kClientIps], &response)
                 .ok() &&
             response.has_throttled() && !response.throttled();
    };
    int next = 0;
    *out = RunSequential([&] { return call(next++); }, warmup, calls);
    if (threads > 0) {
      RunThreaded(
          [&](int t) {
            thread_local int i = t * 97;
            return call(i++);
          },
          threads, mt_calls, warmup, out);
    }
    (*channel)->Stop();
    return 0;
  });
  const bool ok = Reap(pid);
  (*server)->Stop();
  return ok ? 0 : 1;
}

}  // namespace zen::bench
