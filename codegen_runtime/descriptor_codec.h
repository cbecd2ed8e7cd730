// A MethodCodec built at run time from a method's descriptor and its
// zen.rpc options (proto/zen/rpc/options.proto), read the way
// protoc-gen-zenrpc reads them: what tools and tests that work over any
// method (agent_cli, fuzzers, conformance tests) use to decode and encode
// exactly what the generated stubs do. Generated code builds its own codecs
// from literals and does not link this.
#ifndef ZEN_CODEGEN_RUNTIME_DESCRIPTOR_CODEC_H_
#define ZEN_CODEGEN_RUNTIME_DESCRIPTOR_CODEC_H_

#include <memory>

#include "absl/strings/string_view.h"
#include "codegen_runtime/method_codec.h"
#include "google/protobuf/descriptor.h"

namespace zen::codegen_runtime {

// The codec of `method` under the wire name `wire_name` (a view that must
// outlive the codec, like the descriptors, which for the generated pool live
// forever). Aborts, as MethodCodec does, if the options name no such field.
std::unique_ptr<const MethodCodec> MethodCodecFromDescriptor(
    absl::string_view wire_name,
    const google::protobuf::MethodDescriptor* method);

}  // namespace zen::codegen_runtime

#endif  // ZEN_CODEGEN_RUNTIME_DESCRIPTOR_CODEC_H_
