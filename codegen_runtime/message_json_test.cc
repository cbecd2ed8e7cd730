#include "codegen_runtime/message_json.h"

#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "codegen_runtime/json_value.h"
#include "codegen_runtime/message_json_test_util.h"
#include "codegen_runtime/padded_json.h"
#include "codegen_runtime/testdata/codec_test.pb.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"

namespace zen::codegen_runtime {
namespace {

namespace pb = google::protobuf;
using ::zen::codegen_runtime::testing::Decode;
using ::zen::codegen_runtime::testing::Encode;
using ::zen::codegen_runtime::testing::Equal;
using ::zen::codegen_runtime::testing::FromText;
using ::zen::codegen_runtime::testing::kAllScalars;
using ::zen::codegen_runtime::testing::Mixed;
using ::zen::codegen_runtime::testing::ProtobufParse;
using ::zen::codegen_runtime::testing::ProtobufPrint;
using ::zen::codegen_runtime::testing::Scalars;

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
  message.set_color(::zen::codegen_runtime::testing::RED);
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
  EXPECT_EQ(decoded.color(), ::zen::codegen_runtime::testing::GREEN);
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
  EXPECT_EQ(decoded.color(),
            ::zen::codegen_runtime::testing::COLOR_UNSPECIFIED);
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

}  // namespace
}  // namespace zen::codegen_runtime
