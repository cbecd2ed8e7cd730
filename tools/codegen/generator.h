// protoc-gen-zenrpc's CodeGenerator: reads a .proto file's services and
// zen.rpc options into a FileModel, checks them, opens the output files and
// hands them to the emitters (emit_header.cc, emit_source.cc).
#ifndef ZEN_TOOLS_CODEGEN_GENERATOR_H_
#define ZEN_TOOLS_CODEGEN_GENERATOR_H_

#include <cstdint>
#include <string>

#include "google/protobuf/compiler/code_generator.h"
#include "google/protobuf/descriptor.h"
#include "tools/codegen/model.h"

namespace zen::codegen {

// For every input `dir/name.proto` writes `dir/name.zenrpc.h` and
// `dir/name.zenrpc.cc` (a file without services gets both, nearly empty, so
// build rules can declare the outputs up front). Takes no parameter.
//
// Fails, with an error that names the file and the method or field, on:
// streaming methods; method names generated code cannot use (C++ keywords,
// "Service", "Stub", "RegisterOn", "Callback", and X next to XAsync); two
// methods of a service with one wire name; positional_args or result_field
// naming no field; raw_json on anything but a singular string field of a
// top-level request or response message of the file's methods.
class ZenRpcGenerator : public google::protobuf::compiler::CodeGenerator {
 public:
  bool Generate(const google::protobuf::FileDescriptor* file,
                const std::string& parameter,
                google::protobuf::compiler::GeneratorContext* context,
                std::string* error) const override;

  uint64_t GetSupportedFeatures() const override {
    return FEATURE_PROTO3_OPTIONAL;
  }
};

// Reads `file` into *model, checking it as described above. On failure
// returns false with *error set (and *model partly filled).
bool BuildFileModel(const google::protobuf::FileDescriptor* file,
                    FileModel* model, std::string* error);

}  // namespace zen::codegen

#endif  // ZEN_TOOLS_CODEGEN_GENERATOR_H_
