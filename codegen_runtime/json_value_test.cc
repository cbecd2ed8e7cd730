// The JSON value reader and writer, and one-value validation, without
// protobuf's utilities.
#include "codegen_runtime/json_value.h"

#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "codegen_runtime/json_value.h"
#include "codegen_runtime/message_json.h"
#include "codegen_runtime/message_json_test_util.h"
#include "codegen_runtime/padded_json.h"
#include "codegen_runtime/testdata/codec_test.pb.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"

namespace zen::codegen_runtime {
namespace {

namespace pb = google::protobuf;
using ::zen::codegen_runtime::testing::Equal;
using ::zen::codegen_runtime::testing::ProtobufParse;

TEST(JsonValueTest, ReadsAndWritesAnyJsonValueWithoutProtobufsUtilities) {
  for (const char* json : {"null", "true", "-2.5", "\"s\"", "[]", "{}",
                           R"({"b":[1,{"c":null}],"a":"x"})"}) {
    pb::Value value;
    ASSERT_TRUE(JsonToValue(json, &value).ok()) << json;
    EXPECT_TRUE(Equal(value, ProtobufParse<pb::Value>(json))) << json;
    std::string back;
    ASSERT_TRUE(ValueToJson(value, &back).ok());
    EXPECT_TRUE(Equal(ProtobufParse<pb::Value>(back), value)) << back;
  }
  std::string sorted;
  pb::Value object;
  ASSERT_TRUE(JsonToValue(R"({"b":1,"a":2})", &object).ok());
  ASSERT_TRUE(ValueToJson(object, &sorted).ok());
  EXPECT_EQ(sorted, R"({"a":2,"b":1})");
  pb::Value bad;
  for (const char* json : {"", "{", "1 2", "NaN", "// c\n1", "[1,]"}) {
    EXPECT_EQ(JsonToValue(json, &bad).code(),
              absl::StatusCode::kInvalidArgument)
        << json;
  }
}

TEST(ValidateJsonValueTest, AcceptsOneValueAndRejectsTheRest) {
  EXPECT_TRUE(ValidateJsonValue(" {\"a\": [1, null]} ", false).ok());
  EXPECT_TRUE(ValidateJsonValue("null", false).ok());
  EXPECT_FALSE(ValidateJsonValue("", false).ok());
  EXPECT_FALSE(ValidateJsonValue("[1] [2]", false).ok());
  EXPECT_FALSE(ValidateJsonValue("/* c */ 1", false).ok());
  EXPECT_FALSE(ValidateJsonValue("\"\xff\"", false).ok());
}

}  // namespace
}  // namespace zen::codegen_runtime
