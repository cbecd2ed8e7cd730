#include "fuzz/agent_codecs.h"

#include "fuzz/fuzz_check.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "proto/zen/agent/worker_agent.pb.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "proto/zen/rpc/options.pb.h"

namespace zen::fuzz {
namespace {

namespace pb = google::protobuf;

std::unique_ptr<stubs::MethodCodec> CodecFromOptions(
    const pb::MethodDescriptor* method, absl::string_view wire_name) {
  stubs::MethodSpec spec(wire_name, method->input_type(),
                         method->output_type());
  for (int i = 0; i < method->input_type()->field_count(); ++i) {
    const pb::FieldDescriptor* f = method->input_type()->field(i);
    if (f->options().GetExtension(rpc::raw_json)) {
      spec.AddRequestRawJson(f->name());
    }
  }
  for (int i = 0; i < method->output_type()->field_count(); ++i) {
    const pb::FieldDescriptor* f = method->output_type()->field(i);
    if (f->options().GetExtension(rpc::raw_json)) {
      spec.AddResponseRawJson(f->name());
    }
  }
  const pb::MethodOptions& options = method->options();
  for (int i = 0; i < options.ExtensionSize(rpc::positional_args); ++i) {
    spec.AddPositionalArg(options.GetExtension(rpc::positional_args, i));
  }
  if (options.HasExtension(rpc::result_field)) {
    spec.SetResultField(options.GetExtension(rpc::result_field));
  }
  spec.SetNullWhenEmpty(options.GetExtension(rpc::null_when_empty));
  return std::make_unique<stubs::MethodCodec>(spec);
}

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
      out->push_back(
          {m, CodecFromOptions(m, agent::WorkerAgent::kMethodNames[i])});
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

}  // namespace zen::fuzz
