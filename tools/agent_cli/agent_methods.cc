#include "tools/agent_cli/agent_methods.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "codegen_runtime/descriptor_codec.h"
#include "codegen_runtime/message_json.h"
#include "codegen_runtime/padded_json.h"
#include "proto/zen/agent/worker_agent.pb.h"
#include "proto/zen/rpc/options.pb.h"

namespace zen::agent_cli {
namespace {

namespace pb = ::google::protobuf;
using Stub = agent::WorkerAgent::Stub;

// What only the compiler knows of a method: the Stub member to call and its
// C++ message types. Everything else is read from descriptors.
struct StubBinding {
  const pb::Descriptor* request_type;
  const pb::Descriptor* response_type;
  std::function<std::unique_ptr<pb::Message>()> new_request;
  std::function<std::unique_ptr<pb::Message>()> new_response;
  AgentMethod::Call call;
};

template <typename Request, typename Response>
StubBinding Bind(absl::StatusOr<Response> (Stub::*method)(
    const Request&, const rpc::CallOptions&)) {
  StubBinding binding;
  binding.request_type = Request::descriptor();
  binding.response_type = Response::descriptor();
  binding.new_request = [] { return std::make_unique<Request>(); };
  binding.new_response = [] { return std::make_unique<Response>(); };
  binding.call = [method](Stub& stub, const pb::Message& request,
                          const rpc::CallOptions& options,
                          pb::Message* response) -> absl::Status {
    if (request.GetDescriptor() != Request::descriptor() ||
        response->GetDescriptor() != Response::descriptor()) {
      return absl::InvalidArgumentError(
          absl::StrCat("messages of types ", request.GetTypeName(), " and ",
                       response->GetTypeName(), " do not fit the method"));
    }
    ZEN_ASSIGN_OR_RETURN(
        Response result,
        (stub.*method)(static_cast<const Request&>(request), options));
    static_cast<Response*>(response)->Swap(&result);
    return absl::OkStatus();
  };
  return binding;
}

// One entry per rpc of worker_agent.proto, in declaration order (C++ cannot
// enumerate a class's members; AgentMethods() checks this list against the
// descriptors, so a method added to the proto and not here aborts at once).
std::vector<StubBinding> StubBindings() {
  std::vector<StubBinding> bindings;
  bindings.push_back(Bind(&Stub::Ping));
  bindings.push_back(Bind(&Stub::UpdatedSettings));
  bindings.push_back(Bind(&Stub::WatchSettings));
  bindings.push_back(Bind(&Stub::SendCollectorEvents));
  bindings.push_back(Bind(&Stub::CalculateRateLimits));
  bindings.push_back(Bind(&Stub::RecordAttackWave));
  bindings.push_back(Bind(&Stub::ReportMetrics));
  return bindings;
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "agent_cli: %s\n", message.c_str());
  std::abort();
}

std::vector<AgentMethod>* BuildAgentMethods() {
  const pb::ServiceDescriptor* service =
      agent::PingRequest::descriptor()->file()->FindServiceByName(
          "WorkerAgent");
  if (service == nullptr) Die("no service WorkerAgent in the descriptors");
  std::vector<StubBinding> bindings = StubBindings();
  constexpr auto& kNames = agent::WorkerAgent::kMethodNames;
  if (static_cast<size_t>(service->method_count()) != kNames.size() ||
      bindings.size() != kNames.size()) {
    Die(absl::StrCat(service->full_name(), " has ", service->method_count(),
                     " methods, the Stub ", kNames.size(), ", agent_cli ",
                     bindings.size()));
  }
  auto* methods = new std::vector<AgentMethod>();
  for (int i = 0; i < service->method_count(); ++i) {
    const pb::MethodDescriptor* descriptor = service->method(i);
    StubBinding& binding = bindings[i];
    const absl::string_view wire_name = kNames[i];
    const std::string& option =
        descriptor->options().GetExtension(::zen::rpc::wire_name);
    if (descriptor->input_type() != binding.request_type ||
        descriptor->output_type() != binding.response_type ||
        (!option.empty() && option != wire_name)) {
      Die(absl::StrCat("method ", i, " (", descriptor->full_name(), ", ",
                       wire_name, ") does not match the Stub's"));
    }
    AgentMethod method;
    method.wire_name = wire_name;
    method.descriptor = descriptor;
    method.codec =
        codegen_runtime::MethodCodecFromDescriptor(wire_name, descriptor);
    method.new_request = std::move(binding.new_request);
    method.new_response = std::move(binding.new_response);
    method.call = std::move(binding.call);
    methods->push_back(std::move(method));
  }
  return methods;
}

}  // namespace

const std::vector<AgentMethod>& AgentMethods() {
  static const std::vector<AgentMethod>* const methods = BuildAgentMethods();
  return *methods;
}

const AgentMethod* FindAgentMethod(absl::string_view wire_name) {
  for (const AgentMethod& method : AgentMethods()) {
    if (method.wire_name == wire_name) return &method;
  }
  return nullptr;
}

absl::StatusOr<std::unique_ptr<pb::Message>> DecodeJsonArgs(
    const AgentMethod& method, absl::string_view args_json) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(args_json);
  const bool positional = !trimmed.empty() && trimmed.front() == '[';
  if (!positional && (trimmed.empty() || trimmed.front() != '{')) {
    return absl::InvalidArgumentError(
        "ARGS_JSON must be a JSON array of positional arguments (or an "
        "object of the request's fields)");
  }
  absl::Status status =
      codegen_runtime::ValidateJsonValue(args_json, /*padded=*/false);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ARGS_JSON: ", status.message()));
  }
  const codegen_runtime::PaddedJsonString given(args_json);
  const codegen_runtime::PaddedJsonString none(positional ? "{}" : "[]");
  std::unique_ptr<pb::Message> request = method.new_request();
  ZEN_RETURN_IF_ERROR(positional
                          ? method.codec->DecodeRequest(
                                given.view(), none.view(), request.get())
                          : method.codec->DecodeRequest(
                                none.view(), given.view(), request.get()));
  return request;
}

absl::StatusOr<std::string> CallForJson(const AgentMethod& method, Stub& stub,
                                        const pb::Message& request,
                                        const rpc::CallOptions& options) {
  std::unique_ptr<pb::Message> response = method.new_response();
  ZEN_RETURN_IF_ERROR(method.call(stub, request, options, response.get()));
  std::string result;
  ZEN_RETURN_IF_ERROR(method.codec->EncodeResult(*response, &result));
  return result;
}

}  // namespace zen::agent_cli
