// The WorkerAgent methods as the .proto declares them, each with a
// MethodCodec built from its zen.rpc options the way protoc-gen-zenrpc reads
// them, so fuzz targets can decode and encode exactly what the generated
// stubs must (stub_json_fuzzer checks that they agree).
#ifndef ZEN_FUZZ_AGENT_CODECS_H_
#define ZEN_FUZZ_AGENT_CODECS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "codegen_runtime/method_codec.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace zen::fuzz {

struct AgentMethod {
  const google::protobuf::MethodDescriptor* descriptor;
  std::unique_ptr<const codegen_runtime::MethodCodec> codec;
};

// In declaration order (ping, updated_settings, watch_settings,
// send_collector_events, calculate_rate_limits, record_attack_wave). Built
// once; lives forever.
const std::vector<AgentMethod>& AgentMethods();

// The method of that wire name (it must exist).
const AgentMethod& AgentMethodNamed(absl::string_view wire_name);

// A new, empty message of the given type (the generated class).
std::unique_ptr<google::protobuf::Message> NewMessage(
    const google::protobuf::Descriptor* type);

// Equality by deterministic wire bytes: maps sorted, and, unlike
// MessageDifferencer, a NaN (protobuf's JSON accepts "NaN" for doubles)
// equals itself.
bool SameMessage(const google::protobuf::Message& a,
                 const google::protobuf::Message& b);

}  // namespace zen::fuzz

#endif  // ZEN_FUZZ_AGENT_CODECS_H_
