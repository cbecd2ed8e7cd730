// Fuzzes the generated WorkerAgent stubs' JSON decoding of every agent
// message: requests as the parent's generated Service decodes them (through
// rpc::Server's real dispatch), results as a child's Stub decodes them.
//
// Input: one byte picks the method (any of the service's seven) and the
// direction; requests carry `args` and `kwargs` texts separated by
// "\n--\n", results one text.
// Checked:
// * a well-formed request envelope gets exactly one response, which is the
//   method's answer if the request decoded and INVALID_ARGUMENT if not (never
//   a dropped connection or a crash); a malformed one is answered as the
//   envelope rules say;
// * the generated Service decodes exactly as a MethodCodec built from the
//   .proto's zen.rpc options does (so the generated specs match the .proto);
// * what decodes re-encodes, and decodes again to the same message, in both
//   directions.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "codegen_runtime/padded_json.h"
#include "fuzz/agent_codecs.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "fuzz/scripted_stream.h"
#include "ipc/frame.h"
#include "proto/zen/agent/worker_agent.pb.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/envelope.h"
#include "rpc/json_writer.h"
#include "rpc/server.h"
#include "testing/test_secret.h"

namespace zen::fuzz {
namespace {

namespace pb = google::protobuf;
using ::zen::agent::WorkerAgent;

using Method = AgentMethod;

// Keeps a copy of the last request any method decoded.
class RecordingService final : public WorkerAgent::Service {
 public:
  std::unique_ptr<pb::Message> TakeLast() { return std::move(last_); }

  absl::Status Ping(codegen_runtime::ServerContext*,
                    const agent::PingRequest& request,
                    agent::PingResponse*) override {
    return Keep(request);
  }
  absl::Status UpdatedSettings(codegen_runtime::ServerContext*,
                               const agent::UpdatedSettingsRequest& request,
                               agent::UpdatedSettingsResponse*) override {
    return Keep(request);
  }
  absl::Status WatchSettings(codegen_runtime::ServerContext*,
                             const agent::WatchSettingsRequest& request,
                             agent::UpdatedSettingsResponse*) override {
    return Keep(request);
  }
  absl::Status SendCollectorEvents(
      codegen_runtime::ServerContext*,
      const agent::SendCollectorEventsRequest& request,
      agent::SendCollectorEventsResponse*) override {
    return Keep(request);
  }
  absl::Status CalculateRateLimits(
      codegen_runtime::ServerContext*,
      const agent::CalculateRateLimitsRequest& request,
      agent::CalculateRateLimitsResponse*) override {
    return Keep(request);
  }
  absl::Status RecordAttackWave(codegen_runtime::ServerContext*,
                                const agent::RecordAttackWaveRequest& request,
                                agent::RecordAttackWaveResponse*) override {
    return Keep(request);
  }
  absl::Status ReportMetrics(codegen_runtime::ServerContext*,
                             const agent::ReportMetricsRequest& request,
                             agent::ReportMetricsResponse*) override {
    return Keep(request);
  }

 private:
  absl::Status Keep(const pb::Message& request) {
    last_.reset(request.New());
    last_->CopyFrom(request);
    return absl::OkStatus();
  }
  std::unique_ptr<pb::Message> last_;
};

struct Harness {
  Harness() : secret(testing::TestSecret()) {
    // Decoding failures are logged as handler errors; keep them off stderr.
    SetLogSink([](LogLevel, absl::string_view) {});
    // Handlers always run inline on the thread that read their request: a
    // slow one (the first Struct parse, under ASan) would otherwise get its
    // reading moved to a server thread, which would then find the script
    // over and shut the stream before the response is written.
    rpc::ServerOptions options;
    options.inline_handler_budget = absl::InfiniteDuration();
    server = *rpc::Server::Create(&secret, options);
    service.RegisterOn(server.get());
    FUZZ_CHECK(server->Start().ok());
  }
  ipc::Secret secret;
  RecordingService service;
  std::unique_ptr<rpc::Server> server;
};

Harness& TheHarness() {
  static Harness* harness = new Harness;
  return *harness;
}

// Encodes `decoded` as our stubs send it and checks it decodes back.
void CheckRequestRoundTrip(const Method& method, const pb::Message& decoded) {
  std::string args_text, kwargs;
  FUZZ_CHECK(method.codec->EncodeRequest(decoded, &args_text, &kwargs).ok());
  const codegen_runtime::PaddedJsonString args(args_text);
  const codegen_runtime::PaddedJsonString padded(kwargs);
  std::unique_ptr<pb::Message> again(decoded.New());
  FUZZ_CHECK(
      method.codec->DecodeRequest(args.view(), padded.view(), again.get())
          .ok());
  FUZZ_CHECK(SameMessage(decoded, *again));
}

void FuzzRequest(const Method& method, FuzzInput& input) {
  absl::string_view args = input.ConsumeUntil("\n--\n");
  absl::string_view kwargs = input.ConsumeRemaining();
  if (args.empty()) args = "[]";
  if (kwargs.empty()) kwargs = "{}";
  const std::string frame =
      absl::StrCat("[\"f\",", rpc::JsonString(method.codec->wire_name()), ",",
                   args, ",", kwargs, "]");

  // What the envelope rules say happens to this frame.
  const codegen_runtime::PaddedJsonString padded_frame(frame);
  rpc::RequestView request;
  const absl::Status envelope = rpc::EnvelopeParser(64).ParseRequest(
      padded_frame.view().json(), &request);

  Harness& harness = TheHarness();
  auto stream = std::make_shared<ScriptedStream>();
  stream->AddFrame(frame);
  harness.server->ServeStream(stream);
  const std::vector<std::string> written = stream->written();
  std::unique_ptr<pb::Message> decoded = harness.service.TakeLast();

  if (!envelope.ok()) {
    FUZZ_CHECK(written.empty());
    FUZZ_CHECK(decoded == nullptr);
    return;
  }
  FUZZ_CHECK(written.size() == 1);
  const codegen_runtime::PaddedJsonString padded_response(written[0]);
  rpc::ResponseView response;
  FUZZ_CHECK(rpc::EnvelopeParser(64)
                 .ParseResponse(padded_response.view().json(), &response)
                 .ok());
  FUZZ_CHECK(response.id == "f");

  // The generated Service and a codec made from the .proto agree.
  const codegen_runtime::PaddedJsonString padded_args(request.args);
  const codegen_runtime::PaddedJsonString padded_kwargs(request.kwargs);
  std::unique_ptr<pb::Message> mirror =
      NewMessage(method.descriptor->input_type());
  const absl::Status mirror_status = method.codec->DecodeRequest(
      padded_args.view(), padded_kwargs.view(), mirror.get());
  if (decoded == nullptr) {
    FUZZ_CHECK(absl::IsInvalidArgument(response.error));
    FUZZ_CHECK(!mirror_status.ok());
    return;
  }
  FUZZ_CHECK(response.error.ok());
  FUZZ_CHECK(mirror_status.ok());
  FUZZ_CHECK(SameMessage(*decoded, *mirror));
  CheckRequestRoundTrip(method, *decoded);
}

void FuzzResult(const Method& method, FuzzInput& input) {
  const absl::string_view result = input.ConsumeRemaining();
  // A client only sees results inside a response that parsed.
  const codegen_runtime::PaddedJsonString frame(
      absl::StrCat("[\"f\",", result, ",null]"));
  rpc::ResponseView response;
  if (!rpc::EnvelopeParser(64)
           .ParseResponse(frame.view().json(), &response)
           .ok()) {
    return;
  }
  const codegen_runtime::PaddedJsonString padded(response.result);
  std::unique_ptr<pb::Message> decoded =
      NewMessage(method.descriptor->output_type());
  if (!method.codec->DecodeResult(padded.view(), decoded.get()).ok()) return;
  // What a child accepted, a parent could have sent: encode and decode again.
  std::string encoded;
  FUZZ_CHECK(method.codec->EncodeResult(*decoded, &encoded).ok());
  const codegen_runtime::PaddedJsonString padded_again(encoded);
  std::unique_ptr<pb::Message> again(decoded->New());
  FUZZ_CHECK(method.codec->DecodeResult(padded_again.view(), again.get()).ok());
  FUZZ_CHECK(SameMessage(*decoded, *again));
}

void Run(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const uint8_t selector = input.ConsumeByte();
  const std::vector<Method>& methods = AgentMethods();
  const Method& method = methods[(selector >> 1) % methods.size()];
  if ((selector & 1) == 0) {
    FuzzRequest(method, input);
  } else {
    FuzzResult(method, input);
  }
}

}  // namespace
}  // namespace zen::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zen::fuzz::Run(data, size);
  return 0;
}
