#include "stubs/message_json.h"

#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "stubs/json_value.h"
#include "stubs/padded_json.h"
#include "stubs/testdata/codec_test.pb.h"

namespace zen::stubs {
namespace {

namespace pb = google::protobuf;
using ::zen::stubs::testing::AllFallback;
using ::zen::stubs::testing::Color;
using ::zen::stubs::testing::Mixed;
using ::zen::stubs::testing::Scalars;
using ::zen::stubs::testing::Tree;
using ::zen::stubs::testing::WithValue;

template <typename T>
T FromText(const std::string& text) {
  T message;
  EXPECT_TRUE(pb::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

template <typename T>
std::string Encode(const MessageJson& codec, const T& message) {
  std::string out;
  absl::Status status = codec.Encode(message, &out);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

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

template <typename T>
std::string ProtobufPrint(const T& message) {
  std::string json;
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  EXPECT_TRUE(pb::util::MessageToJsonString(message, &json, options).ok());
  return json;
}

bool Equal(const pb::Message& a, const pb::Message& b) {
  return pb::util::MessageDifferencer::Equals(a, b);
}

const char kAllScalars[] = R"pb(
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

TEST(MessageJsonTest, EncodesWhatProtobufParsesBackToTheSameMessage) {
  MessageJson codec(Scalars::descriptor(), {});
  const Scalars message = FromText<Scalars>(kAllScalars);
  const std::string json = Encode(codec, message);
  EXPECT_TRUE(Equal(ProtobufParse<Scalars>(json), message)) << json;
}

TEST(MessageJsonTest, DecodesWhatProtobufPrintsToTheSameMessage) {
  MessageJson codec(Scalars::descriptor(), {});
  const Scalars message = FromText<Scalars>(kAllScalars);
  Scalars decoded;
  ASSERT_TRUE(Decode(codec, ProtobufPrint(message), &decoded).ok());
  EXPECT_TRUE(Equal(decoded, message)) << decoded.DebugString();
}

TEST(MessageJsonTest, UsesProtoFieldNamesAndIntegersAsNumbers) {
  MessageJson codec(Scalars::descriptor(), {});
  Scalars message;
  message.set_camel_case_name("x");
  message.set_i64(5);
  message.set_color(::zen::stubs::testing::RED);
  message.set_opt_i32(0);
  message.set_db(std::numeric_limits<double>::infinity());
  message.add_r_fl(std::nanf(""));
  EXPECT_EQ(Encode(codec, message),
            R"({"i64":5,"db":"Infinity","color":"RED","opt_i32":0,)"
            R"("camel_case_name":"x","r_fl":["NaN"]})");
}

TEST(MessageJsonTest, EncodesEmptyMessageAsEmptyObject) {
  MessageJson codec(Scalars::descriptor(), {});
  EXPECT_EQ(Encode(codec, Scalars()), "{}");
}

TEST(MessageJsonTest, AcceptsLowerCamelNames) {
  MessageJson codec(Scalars::descriptor(), {});
  Scalars decoded;
  ASSERT_TRUE(Decode(codec, R"({"camelCaseName":"x","optI32":4,"rInner":[{}]})",
                     &decoded)
                  .ok());
  EXPECT_EQ(decoded.camel_case_name(), "x");
  EXPECT_EQ(decoded.opt_i32(), 4);
  EXPECT_EQ(decoded.r_inner_size(), 1);
}

TEST(MessageJsonTest, IgnoresUnknownFieldsFromNewerPeers) {
  MessageJson codec(Scalars::descriptor(), {});
  Scalars decoded;
  ASSERT_TRUE(Decode(codec,
                     R"({"future":{"a":[1,{"b":null}]},"i32":1,"later":"x",)"
                     R"("inner":{"name":"n","novel":[true]}})",
                     &decoded)
                  .ok());
  EXPECT_EQ(decoded.i32(), 1);
  EXPECT_EQ(decoded.inner().name(), "n");
}

TEST(MessageJsonTest, NullLeavesFieldsUnset) {
  MessageJson codec(Scalars::descriptor(), {});
  Scalars decoded;
  ASSERT_TRUE(Decode(codec,
                     R"({"opt_i32":null,"inner":null,"r_s":null,"s":null})",
                     &decoded)
                  .ok());
  EXPECT_FALSE(decoded.has_opt_i32());
  EXPECT_FALSE(decoded.has_inner());
  EXPECT_EQ(decoded.r_s_size(), 0);
}

TEST(MessageJsonTest, ClearsTheMessageFirst) {
  MessageJson codec(Scalars::descriptor(), {});
  Scalars decoded;
  decoded.set_i32(9);
  ASSERT_TRUE(Decode(codec, "{}", &decoded).ok());
  EXPECT_EQ(decoded.i32(), 0);
}

TEST(MessageJsonTest, AcceptsNumbersInStringsAndIntegralDoubles) {
  MessageJson codec(Scalars::descriptor(), {});
  Scalars decoded;
  ASSERT_TRUE(Decode(codec,
                     R"({"i32":"-4","i64":1e3,"u64":"18446744073709551615",)"
                     R"("db":"NaN","fl":"-Infinity","color":2})",
                     &decoded)
                  .ok());
  EXPECT_EQ(decoded.i32(), -4);
  EXPECT_EQ(decoded.i64(), 1000);
  EXPECT_EQ(decoded.u64(), 18446744073709551615u);
  EXPECT_TRUE(std::isnan(decoded.db()));
  EXPECT_TRUE(std::isinf(decoded.fl()) && decoded.fl() < 0);
  EXPECT_EQ(decoded.color(), ::zen::stubs::testing::GREEN);
}

TEST(MessageJsonTest, RejectsValuesThatDoNotFitTheirField) {
  MessageJson codec(Scalars::descriptor(), {});
  for (const char* json : {
           R"({"i32":2147483648})",
           R"({"u32":-1})",
           R"({"i32":1.5})",
           R"({"i32":"abc"})",
           R"({"b":"true"})",
           R"({"s":5})",
           R"({"inner":[]})",
           R"({"r_i32":1})",
           R"({"r_i32":[1,null]})",
           R"({"fl":1e39})",
       }) {
    Scalars decoded;
    absl::Status status = Decode(codec, json, &decoded);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << json;
  }
}

TEST(MessageJsonTest, NamesTheFieldPathInErrors) {
  MessageJson codec(Scalars::descriptor(), {});
  Scalars decoded;
  absl::Status status =
      Decode(codec, R"({"inner":{"child":{"count":true}}})", &decoded);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "field 'inner.child.count': expected an integer");
}

TEST(MessageJsonTest, SkipsUnknownEnumNames) {
  MessageJson codec(Scalars::descriptor(), {});
  Scalars decoded;
  ASSERT_TRUE(
      Decode(codec, R"({"color":"PURPLE","r_color":["RED","PINK"]})", &decoded)
          .ok());
  EXPECT_EQ(decoded.color(), ::zen::stubs::testing::COLOR_UNSPECIFIED);
  ASSERT_EQ(decoded.r_color_size(), 1);
}

TEST(MessageJsonTest, RejectsTextThatIsNotOneObject) {
  MessageJson codec(Scalars::descriptor(), {});
  for (const char* json : {"[]", "null", "1", "", "{} {}", "{\"i32\":}"}) {
    Scalars decoded;
    EXPECT_EQ(Decode(codec, json, &decoded).code(),
              absl::StatusCode::kInvalidArgument)
        << json;
  }
}

TEST(MessageJsonTest, RejectsInvalidUtf8WhenEncoding) {
  MessageJson codec(Scalars::descriptor(), {});
  Scalars message;
  message.mutable_inner()->set_name("\xff");
  std::string out;
  absl::Status status = codec.Encode(message, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "field 'inner.name': string is not valid UTF-8");
}

TEST(MessageJsonTest, RejectsTooDeeplyNestedMessages) {
  MessageJson codec(Scalars::descriptor(), {});
  std::string json = "{\"inner\":";
  for (int i = 0; i < 150; ++i) json += "{\"child\":";
  json += "{}";
  for (int i = 0; i < 151; ++i) json += "}";
  json += "}";
  Scalars decoded;
  EXPECT_EQ(Decode(codec, json, &decoded).code(),
            absl::StatusCode::kInvalidArgument);
}

// ---- raw_json ----

TEST(MessageJsonTest, SplicesRawJsonFieldsVerbatim) {
  MessageJson codec(Mixed::descriptor(), {"settings", "other_raw"});
  Mixed message;
  message.set_settings("{ \"a\" :\t[1, 2.50,\n\"x\"] }");
  message.set_generation(3);
  EXPECT_EQ(Encode(codec, message),
            "{\"settings\":{ \"a\" :\t[1, 2.50,\n\"x\"] },\"generation\":3}");
}

TEST(MessageJsonTest, ReadsRawJsonFieldsByteForByte) {
  MessageJson codec(Mixed::descriptor(), {"settings", "other_raw"});
  const std::string settings = "{ \"a\" :\t[1, 2.50,\n\"\\u00e9\"] ,\"b\":{}}";
  Mixed decoded;
  ASSERT_TRUE(Decode(codec,
                     "{ \"settings\" :  " + settings +
                         "  , \"other_raw\": -1.50e3 , \"generation\":2}",
                     &decoded)
                  .ok());
  EXPECT_EQ(decoded.settings(), settings);
  EXPECT_EQ(decoded.other_raw(), "-1.50e3");
  EXPECT_EQ(decoded.generation(), 2);
}

TEST(MessageJsonTest, KeepsRawJsonNullAsText) {
  MessageJson codec(Mixed::descriptor(), {"settings", "other_raw"});
  Mixed decoded;
  ASSERT_TRUE(Decode(codec, R"({"settings":null})", &decoded).ok());
  EXPECT_EQ(decoded.settings(), "null");
  EXPECT_EQ(Encode(codec, decoded), R"({"settings":null})");
}

TEST(MessageJsonTest, RejectsGarbageInRawJsonFields) {
  MessageJson codec(Mixed::descriptor(), {"settings", "other_raw"});
  for (const char* json : {
           R"({"settings":{"a" 1}})",
           R"({"settings":[1,,2]})",
           R"({"settings":tru})",
           R"({"settings":{"a":NaN}})",
       }) {
    Mixed decoded;
    absl::Status status = Decode(codec, json, &decoded);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << json;
  }
}

TEST(MessageJsonTest, RefusesToSpliceRawJsonThatIsNotOneValue) {
  MessageJson codec(Mixed::descriptor(), {"settings", "other_raw"});
  for (const char* text : {"{", "1 2", "{\"a\":1}x", "'a'"}) {
    Mixed message;
    message.set_settings(text);
    std::string out;
    absl::Status status = codec.Encode(message, &out);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
  }
  Mixed message;
  message.set_other_raw("");  // Set, but empty: not a JSON value.
  std::string out;
  EXPECT_EQ(codec.Encode(message, &out).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MessageJsonTest, LeavesOutUnsetRawJsonFields) {
  MessageJson codec(Mixed::descriptor(), {"settings", "other_raw"});
  Mixed message;
  message.set_generation(1);
  EXPECT_EQ(Encode(codec, message), R"({"generation":1})");
}

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

TEST(ValidateJsonValueTest, AcceptsOneValueAndRejectsTheRest) {
  EXPECT_TRUE(ValidateJsonValue(" {\"a\": [1, null]} ", false).ok());
  EXPECT_TRUE(ValidateJsonValue("null", false).ok());
  EXPECT_FALSE(ValidateJsonValue("", false).ok());
  EXPECT_FALSE(ValidateJsonValue("[1] [2]", false).ok());
  EXPECT_FALSE(ValidateJsonValue("/* c */ 1", false).ok());
  EXPECT_FALSE(ValidateJsonValue("\"\xff\"", false).ok());
}

}  // namespace
}  // namespace zen::stubs
