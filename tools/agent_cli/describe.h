// `agent_cli describe`: services, methods and messages as the wire sees
// them, printed from compiled descriptors, in the spirit of grpcurl's
// describe.
#ifndef ZEN_TOOLS_AGENT_CLI_DESCRIBE_H_
#define ZEN_TOOLS_AGENT_CLI_DESCRIBE_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace zen::agent_cli {

// The wire name of a method (generated code knows it; an empty view means
// unknown, and the method's `wire_name` option, if any, is printed).
using WireNameOf = absl::FunctionRef<absl::string_view(
    const google::protobuf::MethodDescriptor*)>;

// Describes every service of `file` and then every message they reach
// (their requests, responses and the message types of their fields, in that
// order, first seen first) and every other message declared in `file`:
//
//   service zen.agent.WorkerAgent (proto/zen/agent/worker_agent.proto)
//     ping: Ping(zen.agent.PingRequest) returns (zen.agent.PingResponse)
//       args: kwargs only
//       result: the response object; null when empty
//   ...
//   message zen.agent.Actor
//     id               string
//     lastIpAddress    string
//
// Each field line gives its JSON key on the wire (its json_name when the
// .proto sets one, else its name), its label (repeated, optional, map, the
// oneof it belongs to) and type (a scalar's name, a message's or enum's
// full name), and "raw JSON" for a raw_json field. Types of google/protobuf/
// files are named, not expanded. The output is a function of the
// descriptors only, so it is the same from run to run. Thread-safe.
std::string DescribeFile(const google::protobuf::FileDescriptor* file,
                         WireNameOf wire_name);

}  // namespace zen::agent_cli

#endif  // ZEN_TOOLS_AGENT_CLI_DESCRIBE_H_
