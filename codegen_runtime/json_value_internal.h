// The google.protobuf.Value codec's entry points for the reflection codec
// (json_parse.cc, json_print.cc, reflection_json.cc). Apart from
// json_value.h so that the files that only convert whole values (the
// agent's, the tests') do not compile simdjson.h, the build's costliest
// header.
#ifndef ZEN_CODEGEN_RUNTIME_JSON_VALUE_INTERNAL_H_
#define ZEN_CODEGEN_RUNTIME_JSON_VALUE_INTERNAL_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "simdjson.h"

namespace zen::codegen_runtime::internal {

// Whether `type` is google.protobuf.Value.
bool IsJsonValueType(const google::protobuf::Descriptor* type);

// Appends `value` (a google.protobuf.Value) as JSON, in protobuf's mapping:
// an unset kind and null_value are `null`, struct members sorted by key (a
// Struct keeps no order, and sorting makes the text deterministic).
// kInvalidArgument for a NaN or infinite number, a string that is not UTF-8,
// or nesting deeper than kMaxMessageDepth.
absl::Status AppendJsonValue(const google::protobuf::Message& value,
                             std::string* out);

// Clears *value (a google.protobuf.Value) and fills it from one JSON value
// of any type; numbers become doubles, as protobuf's parser makes them, and
// a key repeated in an object keeps its last value. kInvalidArgument for
// invalid JSON or nesting deeper than kMaxMessageDepth (counting from
// `depth`).
absl::Status ParseJsonValue(simdjson::ondemand::value& json,
                            google::protobuf::Message* value, int depth);

}  // namespace zen::codegen_runtime::internal

#endif  // ZEN_CODEGEN_RUNTIME_JSON_VALUE_INTERNAL_H_
