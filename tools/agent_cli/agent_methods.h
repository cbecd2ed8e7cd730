// The WorkerAgent methods as agent_cli calls them: found by wire name, with
// their descriptors and codecs, each called through the generated
// zen::agent::WorkerAgent::Stub so the bytes on the wire are a C++ worker's.
#ifndef ZEN_TOOLS_AGENT_CLI_AGENT_METHODS_H_
#define ZEN_TOOLS_AGENT_CLI_AGENT_METHODS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "codegen_runtime/method_codec.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/call_options.h"

namespace zen::agent_cli {

// One method of the WorkerAgent service. Everything but `call` comes from
// the compiled descriptors and the custom options of
// proto/zen/rpc/options.proto; `call` is the generated Stub's method.
struct AgentMethod {
  // Calls the Stub's method with `request` (of `descriptor`'s input type)
  // and fills *response (of its output type, cleared first) from the
  // result. Returns the Stub's error.
  using Call = std::function<absl::Status(
      agent::WorkerAgent::Stub& stub, const google::protobuf::Message& request,
      const rpc::CallOptions& options, google::protobuf::Message* response)>;

  absl::string_view wire_name;  // Lives forever (WorkerAgent::kMethodNames).
  const google::protobuf::MethodDescriptor* descriptor;  // Generated pool.
  // The method's codec, built from `descriptor` and its options as the
  // generated code builds its own.
  std::unique_ptr<const codegen_runtime::MethodCodec> codec;
  // A new, empty request / response message of the method's types.
  std::function<std::unique_ptr<google::protobuf::Message>()> new_request;
  std::function<std::unique_ptr<google::protobuf::Message>()> new_response;
  Call call;
};

// Every WorkerAgent method, in declaration order. Built once, on first use,
// and never destroyed; thread-safe. Aborts if the generated Stub and the
// compiled descriptors disagree (a build error, not a runtime condition).
const std::vector<AgentMethod>& AgentMethods();

// The method named `wire_name`, or nullptr.
const AgentMethod* FindAgentMethod(absl::string_view wire_name);

// Decodes `args_json` into a new request of `method`, as the server would
// have decoded the reference Ruby client's call: a JSON array fills the
// fields named by the method's positional_args (`null` leaves a field unset,
// extra elements are dropped); a JSON object is taken as the request's
// fields (kwargs) instead. kInvalidArgument if `args_json` is not one strict
// JSON array or object, or does not fit the request.
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> DecodeJsonArgs(
    const AgentMethod& method, absl::string_view args_json);

// Calls `method` through `stub` with `request` (from DecodeJsonArgs) and
// returns the result as the wire carried it, one line of JSON: `null` for an
// empty null_when_empty response, the bare result_field, raw_json fields as
// their JSON values. Errors are the Stub's.
absl::StatusOr<std::string> CallForJson(
    const AgentMethod& method, agent::WorkerAgent::Stub& stub,
    const google::protobuf::Message& request, const rpc::CallOptions& options);

}  // namespace zen::agent_cli

#endif  // ZEN_TOOLS_AGENT_CLI_AGENT_METHODS_H_
