#include "fuzz/agent_codecs.h"

#include <cstdlib>

#include "codegen_runtime/descriptor_codec.h"
#include "fuzz/fuzz_check.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "proto/zen/agent/worker_agent.pb.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"

namespace zen::fuzz {
namespace {

namespace pb = google::protobuf;

std::string Bytes(const pb::Message& message) {
  std::string out;
  {
    pb::io::StringOutputStream stream(&out);
    pb::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

}  // namespace

const std::vector<AgentMethod>& AgentMethods() {
  static const auto* methods = [] {
    auto* out = new std::vector<AgentMethod>;
    const pb::ServiceDescriptor* service =
        agent::PingRequest::descriptor()->file()->FindServiceByName(
            "WorkerAgent");
    FUZZ_CHECK(service != nullptr);
    FUZZ_CHECK(static_cast<size_t>(service->method_count()) ==
               agent::WorkerAgent::kMethodNames.size());
    for (int i = 0; i < service->method_count(); ++i) {
      const pb::MethodDescriptor* m = service->method(i);
      out->push_back({m, codegen_runtime::MethodCodecFromDescriptor(
                             agent::WorkerAgent::kMethodNames[i], m)});
    }
    return out;
  }();
  return *methods;
}

std::unique_ptr<pb::Message> NewMessage(const pb::Descriptor* type) {
  return std::unique_ptr<pb::Message>(
      pb::MessageFactory::generated_factory()->GetPrototype(type)->New());
}

bool SameMessage(const pb::Message& a, const pb::Message& b) {
  return a.GetDescriptor() == b.GetDescriptor() && Bytes(a) == Bytes(b);
}

const AgentMethod& AgentMethodNamed(absl::string_view wire_name) {
  for (const AgentMethod& method : AgentMethods()) {
    if (method.codec->wire_name() == wire_name) return method;
  }
  std::abort();  // A method the fuzzers name is gone from the proto.
}

}  // namespace zen::fuzz
