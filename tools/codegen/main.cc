// protoc-gen-zenrpc: generates typed Service/Stub classes over the zen RPC
// transport for the services of .proto files. Run by protoc:
//   protoc --plugin=protoc-gen-zenrpc=<this> --zenrpc_out=<dir> x.proto
// (tools/zen_rpc.bzl does this for Bazel).
#include "google/protobuf/compiler/plugin.h"
#include "tools/codegen/generator.h"

int main(int argc, char* argv[]) {
  zen::codegen::ZenRpcGenerator generator;
  return google::protobuf::compiler::PluginMain(argc, argv, &generator);
}
