// What the emitters need to know about a .proto file, read from its
// descriptors and zen.rpc options by the generator (generator.cc). Plain
// data: the emitters never look at descriptors themselves.
#ifndef ZEN_TOOLS_CODEGEN_MODEL_H_
#define ZEN_TOOLS_CODEGEN_MODEL_H_

#include <string>
#include <vector>

namespace zen::codegen {

struct MethodModel {
  std::string name;       // The rpc's name, e.g. "UpdatedSettings".
  std::string wire_name;  // e.g. "updated_settings".
  // Fully qualified C++ types, e.g. "::zen::agent::PingRequest".
  std::string request_type;
  std::string response_type;
  // The rpc's proto comment, one entry per line, without "//".
  std::vector<std::string> comment;
  // zen.rpc options (proto/zen/rpc/options.proto).
  std::vector<std::string> request_raw_json;
  std::vector<std::string> response_raw_json;
  std::vector<std::string> positional_args;
  std::string result_field;
  bool null_when_empty = false;
};

struct ServiceModel {
  std::string name;       // e.g. "WorkerAgent".
  std::string full_name;  // e.g. "zen.agent.WorkerAgent".
  std::vector<std::string> comment;
  std::vector<MethodModel> methods;
};

// A singular field that the JSON codec reads and writes through its
// generated accessors instead of Reflection (codegen_runtime/field_access.h).
struct AccessorModel {
  int number = 0;
  std::string name;        // The C++ accessor, e.g. "user".
  std::string builder;     // "SignedField", "UnsignedField", "FloatingField" or
                           // "StringField".
  std::string value_type;  // e.g. "int32_t"; empty for a string.
  bool explicit_presence = false;  // has_x() exists.
};

// The accessors of one message class of the file.
struct MessageAccessModel {
  std::string full_name;  // e.g. "zen.bench.EchoMessage".
  std::string cpp_type;   // e.g. "::zen::bench::EchoMessage".
  std::vector<AccessorModel> fields;
};

struct FileModel {
  std::string proto_path;     // e.g. "proto/zen/agent/worker_agent.proto".
  std::string pb_header;      // e.g. "proto/zen/agent/worker_agent.pb.h".
  std::string header;         // e.g. "proto/zen/agent/worker_agent.zenrpc.h".
  std::string header_guard;   // e.g. "PROTO_ZEN_AGENT_WORKER_AGENT_ZENRPC_H_".
  std::string cpp_namespace;  // e.g. "zen::agent"; empty without a package.
  std::vector<ServiceModel> services;
  // Every message class of the file with at least one accessor, nested ones
  // included, in declaration order.
  std::vector<MessageAccessModel> messages;
};

}  // namespace zen::codegen

#endif  // ZEN_TOOLS_CODEGEN_MODEL_H_
