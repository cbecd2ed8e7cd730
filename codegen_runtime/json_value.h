// google.protobuf.Value fields on the stubs' own path: any JSON value, read
// and written without protobuf's JSON utilities, so that a message holding
// one (a collector event's request schema) keeps the stubs' key and number
// forms (explicit json_name keys, 64-bit integers as numbers) in every other
// field.
#ifndef ZEN_CODEGEN_RUNTIME_JSON_VALUE_H_
#define ZEN_CODEGEN_RUNTIME_JSON_VALUE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace zen::codegen_runtime {

// One JSON value (strict JSON: no comments, NaN or trailing text) into
// *value, cleared first; and back, with object keys sorted. On the stubs'
// own path, not protobuf's JSON utilities, whose type resolver takes the
// generated descriptor pool's lock on every call: code that may run in a
// forked child must not depend on a lock another thread of the parent may
// have held at the fork. kInvalidArgument for text that is not one JSON
// value, or a value that cannot be printed (a non-finite number, a string
// that is not UTF-8), or nesting deeper than 100.
absl::Status JsonToValue(absl::string_view json,
                         google::protobuf::Value* value);
absl::Status ValueToJson(const google::protobuf::Value& value,
                         std::string* out);

// Makes simdjson choose its implementation for this CPU now. It does so
// lazily, on the first parse, inside a function-local static: a child forked
// while a parent thread is inside that first parse would wait forever on
// its own first one. Call it before forking (AgentServer::Create does).
void PrepareJsonForFork();

}  // namespace zen::codegen_runtime

#endif  // ZEN_CODEGEN_RUNTIME_JSON_VALUE_H_
