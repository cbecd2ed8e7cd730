#include "tools/codegen/options.h"

#include "google/protobuf/descriptor.pb.h"

namespace zen::codegen {

namespace pb = google::protobuf;

OptionReader::OptionReader(const google::protobuf::DescriptorPool* pool)
    : pool_(pool),
      factory_(pool),
      wire_name_(pool->FindExtensionByName("zen.rpc.wire_name")),
      null_when_empty_(pool->FindExtensionByName("zen.rpc.null_when_empty")),
      result_field_(pool->FindExtensionByName("zen.rpc.result_field")),
      positional_args_(pool->FindExtensionByName("zen.rpc.positional_args")),
      raw_json_(pool->FindExtensionByName("zen.rpc.raw_json")) {}

std::unique_ptr<google::protobuf::Message> OptionReader::Reparse(
    const google::protobuf::Message& options) {
  const pb::Descriptor* type =
      pool_->FindMessageTypeByName(options.GetDescriptor()->full_name());
  if (type == nullptr) return nullptr;
  std::unique_ptr<pb::Message> message(factory_.GetPrototype(type)->New());
  if (!message->ParseFromString(options.SerializeAsString())) return nullptr;
  return message;
}

MethodOptions OptionReader::ForMethod(
    const google::protobuf::MethodDescriptor* method) {
  MethodOptions result;
  if (wire_name_ == nullptr) return result;  // options.proto not in use.
  std::unique_ptr<pb::Message> options = Reparse(method->options());
  if (options == nullptr) return result;
  const pb::Reflection* r = options->GetReflection();
  result.wire_name = r->GetString(*options, wire_name_);
  result.null_when_empty = r->GetBool(*options, null_when_empty_);
  result.result_field = r->GetString(*options, result_field_);
  for (int i = 0; i < r->FieldSize(*options, positional_args_); ++i) {
    result.positional_args.push_back(
        r->GetRepeatedString(*options, positional_args_, i));
  }
  return result;
}

bool OptionReader::IsRawJson(const google::protobuf::FieldDescriptor* field) {
  if (raw_json_ == nullptr) return false;
  std::unique_ptr<pb::Message> options = Reparse(field->options());
  return options != nullptr &&
         options->GetReflection()->GetBool(*options, raw_json_);
}

}  // namespace zen::codegen
