// Names the generated code uses: C++ spellings of proto names, wire names,
// file names. Pure functions of strings.
#ifndef ZEN_TOOLS_CODEGEN_NAMES_H_
#define ZEN_TOOLS_CODEGEN_NAMES_H_

#include <string>
#include <string_view>

namespace zen::codegen {

// The default wire name of an rpc: its snake_case. A word starts at an upper
// case letter that follows a lower case letter or digit, or that is followed
// by a lower case letter after upper case letters: "UpdatedSettings" ->
// "updated_settings", "GetHTTPStatus" -> "get_http_status", "V2Ping" ->
// "v2_ping".
std::string SnakeCase(std::string_view name);

// "zen.agent.PingRequest" -> "::zen::agent::PingRequest" (nested messages
// resolve through protobuf's nested typedefs: "::pkg::Outer::Inner").
std::string CppTypeName(std::string_view proto_full_name);

// "zen.agent" -> "zen::agent"; "" -> "".
std::string CppNamespace(std::string_view package);

// "proto/zen/agent/worker_agent.proto" -> "proto/zen/agent/worker_agent".
std::string StripProto(std::string_view path);

// "proto/zen/x.zenrpc.h" -> "PROTO_ZEN_X_ZENRPC_H_".
std::string HeaderGuard(std::string_view header_path);

// Whether `name` is a C++ keyword (or alternative token), which cannot name
// a generated method.
bool IsCppKeyword(std::string_view name);

}  // namespace zen::codegen

#endif  // ZEN_TOOLS_CODEGEN_NAMES_H_
