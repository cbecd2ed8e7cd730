// Helpers of the message <-> JSON codec tests: protobuf's own JSON and
// text formats as the reference the codec is checked against.
#ifndef ZEN_CODEGEN_RUNTIME_MESSAGE_JSON_TEST_UTIL_H_
#define ZEN_CODEGEN_RUNTIME_MESSAGE_JSON_TEST_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "codegen_runtime/message_json.h"
#include "codegen_runtime/padded_json.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace zen::codegen_runtime::testing {

namespace pb = google::protobuf;

// `text` in protobuf's text format, parsed (a failure fails the test).
// A Scalars message, in text format, with every field set.
inline constexpr char kAllScalars[] = R"pb(
  i32: -12
  i64: -9007199254740993
  u32: 4000000000
  u64: 18446744073709551615
  s32: -7
  s64: 7
  f32: 5
  f64: 6
  sf32: -5
  sf64: -6
  fl: 0.1
  db: 1e-300
  b: true
  s: "tab\tquote\"backslash\\ctl\x01 é 𝄞"
  color: GREEN
  opt_i32: 0
  opt_s: ""
  r_i32: [ 1, -2, 3 ]
  r_s: [ "a", "" ]
  r_db: [ 0.5, -0 ]
  r_color: [ RED, GREEN ]
  inner {
    name: "n"
    count: 3
    child { name: "c" }
  }
  r_inner { name: "x" }
  r_inner {}
  choice_inner {}
  camel_case_name: "cc"
  r_i64: [ 1, -1 ]
  r_b: [ true, false ]
  r_fl: [ 1.5 ]
  opt_b: false
)pb";

template <typename T>
T FromText(const std::string& text) {
  T message;
  EXPECT_TRUE(pb::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

// `message` encoded by `codec` (a failure fails the test).
template <typename T>
std::string Encode(const MessageJson& codec, const T& message) {
  std::string out;
  absl::Status status = codec.Encode(message, &out);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

// `json` decoded by `codec` into `message`.
template <typename T>
absl::Status Decode(const MessageJson& codec, absl::string_view json,
                    T* message) {
  PaddedJsonString padded(json);
  return codec.Decode(padded.view(), message);
}

// What protobuf's own parser makes of `json`.
template <typename T>
T ProtobufParse(const std::string& json) {
  T message;
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  pb::util::Status status =
      pb::util::JsonStringToMessage(json, &message, options);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in " << json;
  return message;
}

// What protobuf's own printer makes of `message`, with proto field names.
template <typename T>
std::string ProtobufPrint(const T& message) {
  std::string json;
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  EXPECT_TRUE(pb::util::MessageToJsonString(message, &json, options).ok());
  return json;
}

// Same message, field by field.
inline bool Equal(const pb::Message& a, const pb::Message& b) {
  return pb::util::MessageDifferencer::Equals(a, b);
}

}  // namespace zen::codegen_runtime::testing

#endif  // ZEN_CODEGEN_RUNTIME_MESSAGE_JSON_TEST_UTIL_H_
