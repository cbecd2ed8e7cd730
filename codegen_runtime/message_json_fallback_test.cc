// MessageJson with fields it leaves to protobuf (Struct, Value, maps, ...):
// mixed messages, whole messages handed over, recursion, any JSON value.
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
using ::zen::codegen_runtime::testing::AllFallback;
using ::zen::codegen_runtime::testing::Decode;
using ::zen::codegen_runtime::testing::Encode;
using ::zen::codegen_runtime::testing::Equal;
using ::zen::codegen_runtime::testing::FromText;
using ::zen::codegen_runtime::testing::Mixed;
using ::zen::codegen_runtime::testing::ProtobufParse;
using ::zen::codegen_runtime::testing::ProtobufPrint;
using ::zen::codegen_runtime::testing::Tree;
using ::zen::codegen_runtime::testing::WithValue;

// ---- fields left to protobuf ----

TEST(MessageJsonTest, HandlesFieldsLeftToProtobufInAMix) {
  MessageJson codec(Mixed::descriptor(), {"settings", "other_raw"});
  const Mixed message = FromText<Mixed>(R"pb(
    settings: "[1]"
    generation: 7
    extra {
      fields {
        key: "k"
        value { list_value { values { number_value: 1 } } }
      }
    }
    blob: "\x00\xff"
    counts { key: "a" value: 1 }
    at { seconds: 1700000000 nanos: 5000000 }
    inner { name: "i" }
    wrapped { value: 0 }
  )pb");
  const std::string json = Encode(codec, message);
  EXPECT_EQ(json, R"({"settings":[1],"generation":7,"inner":{"name":"i"},)"
                  R"("extra":{"k":[1]},"blob":"AP8=","counts":{"a":1},)"
                  R"("at":"2023-11-14T22:13:20.005Z","wrapped":0})");
  Mixed decoded;
  ASSERT_TRUE(Decode(codec, json, &decoded).ok());
  EXPECT_TRUE(Equal(decoded, message)) << decoded.DebugString();
}

TEST(MessageJsonTest, ReportsProtobufErrorsAsInvalidArgument) {
  MessageJson codec(Mixed::descriptor(), {"settings", "other_raw"});
  Mixed decoded;
  EXPECT_EQ(Decode(codec, R"({"at":"yesterday"})", &decoded).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MessageJsonTest, HandsWholeMessagesToProtobufWhenNoFieldIsFast) {
  MessageJson codec(AllFallback::descriptor(), {});
  const AllFallback message = FromText<AllFallback>(R"pb(
    labels { key: "a" value: "b" }
    value {
      fields {
        key: "k"
        value { string_value: "s" }
      }
    }
  )pb");
  const std::string json = Encode(codec, message);
  EXPECT_EQ(json, ProtobufPrint(message));
  AllFallback decoded;
  ASSERT_TRUE(Decode(codec, R"({"labels":{"a":"b"},"value":{"k":"s"},"new":1})",
                     &decoded)
                  .ok());
  EXPECT_TRUE(Equal(decoded, message));
}

TEST(MessageJsonTest, PrintsAnyJsonValueOnItsOwnPathWithSortedKeys) {
  MessageJson codec(WithValue::descriptor(), {});
  WithValue message;
  message.set_name("n");
  message.set_big(1700000000000);
  message.mutable_inner()->set_count(1700000000001);
  const std::string any = R"({"query":{"type":"object","properties":{)"
                          R"("b":{"type":"number"},"a":{"type":"string"}}},)"
                          R"("auth":[{"type":"http","scheme":"bearer"}],)"
                          R"("n":-2.5,"t":true,"z":null,"e":"\u00e9\n"})";
  ASSERT_TRUE(pb::util::JsonStringToMessage(any, message.mutable_any()).ok());
  message.add_list()->set_number_value(3);
  message.add_list()->set_null_value(pb::NULL_VALUE);
  // Explicit json_name is the key, 64-bit integers are numbers, and the
  // Value keeps its content with keys sorted.
  EXPECT_EQ(Encode(codec, message),
            R"({"name":"n","any":{"auth":[{"scheme":"bearer","type":"http"}],)"
            R"("e":"é\n","n":-2.5,"query":{"properties":{"a":{"type":)"
            R"("string"},"b":{"type":"number"}},"type":"object"},"t":true,)"
            R"("z":null},"list":[3,null],"bigNumber":1700000000000,)"
            R"("inner":{"count":1700000000001}})");
  EXPECT_TRUE(Equal(ProtobufParse<WithValue>(Encode(codec, message)), message));
}

TEST(MessageJsonTest, ParsesAnyJsonValueAndBothKeyAndNumberForms) {
  MessageJson codec(WithValue::descriptor(), {});
  WithValue decoded;
  ASSERT_TRUE(Decode(codec,
                     R"({"any":{"a":[1,"x",{"b":false}],"a":{"last":1}},)"
                     R"("list":["s",2],"big":"12","inner":{"count":5}})",
                     &decoded)
                  .ok());
  EXPECT_EQ(decoded.any()
                .struct_value()
                .fields()
                .at("a")
                .struct_value()
                .fields()
                .at("last")
                .number_value(),
            1);  // A repeated key keeps its last value.
  EXPECT_EQ(decoded.list(0).string_value(), "s");
  EXPECT_EQ(decoded.big(), 12);  // protobuf's quoted form, proto name.
  WithValue camel;
  ASSERT_TRUE(Decode(codec, R"({"bigNumber":7})", &camel).ok());
  EXPECT_EQ(camel.big(), 7);
}

TEST(MessageJsonTest, RefusesNonFiniteNumbersAndDeepNestingInAValue) {
  MessageJson codec(WithValue::descriptor(), {});
  WithValue message;
  message.mutable_any()->set_number_value(
      std::numeric_limits<double>::infinity());
  std::string out;
  EXPECT_EQ(codec.Encode(message, &out).code(),
            absl::StatusCode::kInvalidArgument);
  const std::string deep = absl::StrCat("{\"any\":", std::string(200, '['),
                                        std::string(200, ']'), "}");
  WithValue decoded;
  EXPECT_EQ(Decode(codec, deep, &decoded).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MessageJsonTest, HandlesRecursiveTypesWithFieldsLeftToProtobuf) {
  MessageJson codec(Tree::descriptor(), {});
  const Tree message = FromText<Tree>(R"pb(
    label: "root"
    children {
      label: "leaf"
      attributes {
        fields {
          key: "x"
          value { bool_value: true }
        }
      }
    }
  )pb");
  const std::string json = Encode(codec, message);
  Tree decoded;
  ASSERT_TRUE(Decode(codec, json, &decoded).ok()) << json;
  EXPECT_TRUE(Equal(decoded, message)) << json;
}

}  // namespace
}  // namespace zen::codegen_runtime
