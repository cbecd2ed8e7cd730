#include "codegen_runtime/descriptor_codec.h"

#include "proto/zen/rpc/options.pb.h"

namespace zen::codegen_runtime {

namespace pb = google::protobuf;

std::unique_ptr<const MethodCodec> MethodCodecFromDescriptor(
    absl::string_view wire_name, const pb::MethodDescriptor* method) {
  MethodSpec spec(wire_name, method->input_type(), method->output_type());
  const pb::Descriptor* request = method->input_type();
  for (int i = 0; i < request->field_count(); ++i) {
    const pb::FieldDescriptor* f = request->field(i);
    if (f->options().GetExtension(rpc::raw_json)) {
      spec.AddRequestRawJson(f->name());
    }
  }
  const pb::Descriptor* response = method->output_type();
  for (int i = 0; i < response->field_count(); ++i) {
    const pb::FieldDescriptor* f = response->field(i);
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
  return std::make_unique<const MethodCodec>(spec);
}

}  // namespace zen::codegen_runtime
