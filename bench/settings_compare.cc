// Settings pull: `updated_settings` answering a child that has no config
// yet, with a cached runtime config of `--bytes`, served by the real
// zen::AgentServer, or by a minimal generated
// zen::agent::WorkerAgent::Service in one of these ways:
//
//   agent_server      zen::AgentServer after UpdateConfig(config);
//   spliced           the cached text set into the raw_json `config` field
//                     of the response message (checked and copied per
//                     call; AgentServer instead splices it by reference
//                     with ServerContext::SpliceRawJson);
//   spliced_handler   the same bytes answered by a plain rpc handler that
//                     builds `{"config":<cached>,"config_generation":1}`
//                     with one copy and no re-validation (the text was
//                     checked once, when it was cached): what the stubs'
//                     raw_json path could cost;
//   reprint_simdjson  the cached text parsed with simdjson's DOM and printed
//                     again (minified) per call;
//   reprint_protobuf  parsed into a google.protobuf.Value and printed again
//                     with protobuf's JSON utilities per call (what a typed
//                     `Value config` field would cost).
//
// The child calls through the generated Stub; the server's process CPU time
// (every thread) is read around the timed calls. One JSON line:
//
//   settings_compare --variant=agent_server|spliced|spliced_handler|
//                              reprint_simdjson|reprint_protobuf
//                    --bytes=N [--millis=400] [--placement=split]
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/agent_server.h"
#include "bench/bench_util.h"
#include "ipc/secret.h"
#include "proto/zen/agent/worker_agent.pb.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "simdjson.h"

namespace zen::bench {
namespace {

enum class Variant {
  kAgentServer,
  kSpliced,
  kSplicedHandler,
  kReprintSimdjson,
  kReprintProtobuf
};

// A runtime config document (the shape agent/model/runtime_config.h parses) of
// about `bytes` bytes, minified: endpoints are added until it is that big.
std::string MakeConfig(size_t bytes) {
  std::string out =
      R"({"success":true,"serviceId":17,"configUpdatedAt":1700000000000,)"
      R"("heartbeatIntervalInMS":600000,"block":true,"endpoints":[)";
  const std::string tail =
      R"(],"blockedUserIds":["u-1","u-2"],"allowedIPAddresses":[],)"
      R"("excludedUserIdsFromRateLimiting":["admin"],"receivedAnyStats":true})";
  for (int i = 0;; ++i) {
    const std::string endpoint = absl::StrFormat(
        R"(%s{"method":"%s","route":"/api/v1/resource%d/:id",)"
        R"("forceProtectionOff":%s,"allowedIPAddresses":["10.%d.%d.0/24"],)"
        R"("rateLimiting":{"enabled":true,"maxRequests":%d,)"
        R"("windowSizeInMS":60000}})",
        i == 0 ? "" : ",", i % 3 == 0 ? "POST" : "GET", i,
        i % 7 == 0 ? "true" : "false", i / 256 % 256, i % 256, 10 + i % 90);
    if (i > 0 && out.size() + endpoint.size() + tail.size() > bytes) break;
    out += endpoint;
  }
  return out + tail;
}

class SettingsService final : public agent::WorkerAgent::Service {
 public:
  SettingsService(Variant variant, std::string config)
      : variant_(variant),
        config_(std::make_shared<const std::string>(std::move(config))),
        padded_(config_->data(), config_->size()) {}

  absl::Status UpdatedSettings(
      codegen_runtime::ServerContext*,
      const agent::UpdatedSettingsRequest& request,
      agent::UpdatedSettingsResponse* response) override {
    if (request.has_known_config_generation() &&
        request.known_config_generation() == kGeneration) {
      return absl::OkStatus();  // Unchanged: `{}`.
    }
    switch (variant_) {
      case Variant::kAgentServer:  // Not served by this class.
      case Variant::kSpliced:
      case Variant::kSplicedHandler:  // Served by SplicedHandler instead.
        response->set_config(*config_);
        break;
      case Variant::kReprintSimdjson: {
        thread_local simdjson::dom::parser parser;
        simdjson::dom::element element;
        if (parser.parse(padded_).get(element)) {
          return absl::InternalError("config is not JSON");
        }
        response->set_config(simdjson::minify(element));
        break;
      }
      case Variant::kReprintProtobuf: {
        google::protobuf::Value value;
        if (!google::protobuf::util::JsonStringToMessage(*config_, &value)
                 .ok()) {
          return absl::InternalError("config is not JSON");
        }
        std::string printed;
        if (!google::protobuf::util::MessageToJsonString(value, &printed)
                 .ok()) {
          return absl::InternalError("config cannot be printed");
        }
        response->set_config(std::move(printed));
        break;
      }
    }
    response->set_config_generation(kGeneration);
    return absl::OkStatus();
  }

  // Registered over the generated `updated_settings` handler: answers a
  // child that knows no generation with the cached bytes, spliced into the
  // result text with one copy and no parse.
  rpc::Handler SplicedHandler() {
    return [config = config_](rpc::ServerCall& call) {
      std::string result;
      result.reserve(config->size() + 64);
      absl::StrAppend(&result, "{\"config\":", *config,
                      ",\"config_generation\":", kGeneration, "}");
      call.Respond(result);
      return absl::OkStatus();
    };
  }

 private:
  static constexpr int kGeneration = 1;
  const Variant variant_;
  const std::shared_ptr<const std::string> config_;
  const simdjson::padded_string padded_;
};

struct Figures {
  int64_t calls = 0;
  int64_t errors = 0;
  int64_t response_config_bytes = 0;
  double wall_s = 0;
  double server_cpu_s = 0;
};

int Main(int argc, char** argv) {
  const Flags flags(argc, argv);
  const std::string variant_name = flags.GetString("variant", "spliced");
  Variant variant;
  if (variant_name == "agent_server") {
    variant = Variant::kAgentServer;
  } else if (variant_name == "spliced") {
    variant = Variant::kSpliced;
  } else if (variant_name == "spliced_handler") {
    variant = Variant::kSplicedHandler;
  } else if (variant_name == "reprint_simdjson") {
    variant = Variant::kReprintSimdjson;
  } else if (variant_name == "reprint_protobuf") {
    variant = Variant::kReprintProtobuf;
  } else {
    std::fprintf(stderr, "unknown --variant=%s\n", variant_name.c_str());
    return 2;
  }
  const size_t bytes = static_cast<size_t>(flags.GetInt("bytes", 1024));
  const double seconds = flags.GetInt("millis", 400) * 1e-3;
  const Placement placement = flags.GetPlacement();
  PinToCpu(kServerCpu);

  const std::string config = MakeConfig(bytes);
  absl::StatusOr<ipc::Secret> secret = ipc::Secret::Generate();
  if (!secret.ok()) return 1;
  // Either the real AgentServer or an rpc::Server with SettingsService.
  std::unique_ptr<AgentServer> agent_server;
  std::unique_ptr<rpc::Server> server;
  SettingsService service(variant, config);
  if (variant == Variant::kAgentServer) {
    absl::StatusOr<std::unique_ptr<AgentServer>> created =
        AgentServer::Create(&*secret);
    if (!created.ok()) return 1;
    agent_server = std::move(*created);
    const absl::Status updated = agent_server->UpdateConfig(config);
    if (!updated.ok()) {
      std::fprintf(stderr, "UpdateConfig: %s\n", updated.ToString().c_str());
      return 1;
    }
    if (!agent_server->Start().ok()) return 1;
  } else {
    absl::StatusOr<std::unique_ptr<rpc::Server>> created =
        rpc::Server::Create(&*secret);
    if (!created.ok()) return 1;
    server = std::move(*created);
    service.RegisterOn(server.get());
    if (variant == Variant::kSplicedHandler) {
      server->RegisterHandler(
          std::string(agent::WorkerAgent::kUpdatedSettingsMethodName),
          service.SplicedHandler());
    }
    if (!server->Start().ok()) return 1;
  }
  const uint16_t port =
      agent_server != nullptr ? agent_server->port() : server->port();

  SharedArray<Figures> out(1);
  Pipe go, done;
  const pid_t pid = ForkChild([&] {
    if (agent_server != nullptr) agent_server.release()->AbandonAfterFork();
    if (server != nullptr) server.release()->AbandonAfterFork();
    PinToCpu(ClientCpu(placement));
    rpc::ChannelOptions options;
    options.connector.port = port;
    absl::StatusOr<std::unique_ptr<rpc::Channel>> channel =
        rpc::Channel::Create(&*secret, options);
    if (!channel.ok()) return 1;
    agent::WorkerAgent::Stub stub(channel->get());
    const agent::UpdatedSettingsRequest request;  // Knows no generation.
    auto call = [&] {
      absl::StatusOr<agent::UpdatedSettingsResponse> r =
          stub.UpdatedSettings(request);
      if (!r.ok() || r->config().size() < config.size() / 2) {
        ++out[0].errors;
        return;
      }
      out[0].response_config_bytes += static_cast<int64_t>(r->config().size());
    };
    for (int i = 0; i < 3; ++i) call();  // Warm-up.
    out[0].response_config_bytes = 0;
    go.Post();
    const int64_t start = NowNs();
    const int64_t budget = static_cast<int64_t>(seconds * 1e9);
    do {
      call();
      ++out[0].calls;
    } while (NowNs() - start < budget || out[0].calls < 10);
    out[0].wall_s = (NowNs() - start) * 1e-9;
    done.Post();
    (*channel)->Stop();
    return 0;
  });
  go.Wait();
  const double cpu_start = ProcessCpuSeconds();
  done.Wait();
  out[0].server_cpu_s = ProcessCpuSeconds() - cpu_start;
  const bool ok = Reap(pid);
  // Handlers that outran the server's inline budget (2 ms) and had their
  // connection's reading moved to a new thread.
  const uint64_t reliefs = agent_server != nullptr
                               ? agent_server->server_stats().reliefs
                               : server->stats().reliefs;
  if (agent_server != nullptr) agent_server->Stop();
  if (server != nullptr) server->Stop();
  if (!ok) return 1;
  const Figures& f = out[0];
  JsonLine("settings")
      .Add("variant", variant_name)
      .Add("placement", PlacementName(placement))
      .Add("config_bytes", static_cast<int64_t>(config.size()))
      .Add("calls", f.calls)
      .Add("errors", f.errors)
      .Add("server_cpu_us_per_call", f.server_cpu_s * 1e6 / f.calls)
      .Add("wall_us_per_call", f.wall_s * 1e6 / f.calls)
      .Add("bytes_per_s", f.response_config_bytes / f.wall_s)
      .Add("server_reliefs", static_cast<int64_t>(reliefs))
      .Print();
  return 0;
}

}  // namespace
}  // namespace zen::bench

int main(int argc, char** argv) { return zen::bench::Main(argc, argv); }
