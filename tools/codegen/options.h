// Reads the zen.rpc custom options (proto/zen/rpc/options.proto) from
// descriptors.
//
// The plugin links only the protobuf compiler library, not options.pb.cc, so
// the options arrive as unknown fields of MethodOptions / FieldOptions. They
// are read by name through the pool of the file being generated, which holds
// options.proto whenever a file can use the options: the serialized options
// are parsed into a dynamic message of the pool's own MethodOptions, whose
// reflection knows the pool's extensions.
#ifndef ZEN_TOOLS_CODEGEN_OPTIONS_H_
#define ZEN_TOOLS_CODEGEN_OPTIONS_H_

#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"

namespace zen::codegen {

struct MethodOptions {
  std::string wire_name;  // Empty: not set.
  bool null_when_empty = false;
  std::string result_field;  // Empty: not set.
  std::vector<std::string> positional_args;
};

// Not thread-safe (it caches dynamic message types); one per Generate call.
class OptionReader {
 public:
  // `pool` must outlive the reader.
  explicit OptionReader(const google::protobuf::DescriptorPool* pool);

  MethodOptions ForMethod(const google::protobuf::MethodDescriptor* method);
  bool IsRawJson(const google::protobuf::FieldDescriptor* field);

 private:
  // Parses `options` into a dynamic message of the pool's type of the same
  // name, or returns null when the pool lacks the extensions (the file does
  // not use zen.rpc options).
  std::unique_ptr<google::protobuf::Message> Reparse(
      const google::protobuf::Message& options);

  const google::protobuf::DescriptorPool* pool_;
  google::protobuf::DynamicMessageFactory factory_;
  const google::protobuf::FieldDescriptor* wire_name_;
  const google::protobuf::FieldDescriptor* null_when_empty_;
  const google::protobuf::FieldDescriptor* result_field_;
  const google::protobuf::FieldDescriptor* positional_args_;
  const google::protobuf::FieldDescriptor* raw_json_;
};

}  // namespace zen::codegen

#endif  // ZEN_TOOLS_CODEGEN_OPTIONS_H_
