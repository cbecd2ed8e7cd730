// The generated accessors (field_access.h) must give the JSON codec exactly
// what Reflection gives it. Each case runs twice on the same codec: on the
// generated class, whose fields protoc-gen-zenrpc registered (linked in
// through :codec_test_zenrpc), and on a DynamicMessage of the same type,
// which the accessors do not cover and which goes through Reflection.
#include "codegen_runtime/field_access.h"

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <string>

#include "codegen_runtime/message_json.h"
#include "codegen_runtime/message_json_test_util.h"
#include "codegen_runtime/testdata/codec_test.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "gtest/gtest.h"

namespace zen::codegen_runtime {
namespace {

namespace pb = google::protobuf;
using ::zen::codegen_runtime::testing::Decode;
using ::zen::codegen_runtime::testing::Encode;
using ::zen::codegen_runtime::testing::FromText;
using ::zen::codegen_runtime::testing::kAllScalars;
using ::zen::codegen_runtime::testing::Scalars;

class FieldAccessTest : public ::testing::Test {
 protected:
  // A DynamicMessage holding `message`'s content.
  std::unique_ptr<pb::Message> Dynamic(const pb::Message& message) {
    std::unique_ptr<pb::Message> m(
        factory_.GetPrototype(message.GetDescriptor())->New());
    EXPECT_TRUE(m->ParseFromString(message.SerializeAsString()));
    return m;
  }
  std::unique_ptr<pb::Message> EmptyDynamic() {
    return std::unique_ptr<pb::Message>(
        factory_.GetPrototype(Scalars::descriptor())->New());
  }

  // Encodes through both paths: same text.
  void ExpectSameEncoding(const Scalars& message) {
    const std::string generated = Encode(codec_, message);
    const std::string reflected = Encode(codec_, *Dynamic(message));
    EXPECT_EQ(generated, reflected) << message.DebugString();
  }

  // Decodes `json` through both paths: same status, same message.
  void ExpectSameDecoding(const std::string& json) {
    Scalars generated;
    std::unique_ptr<pb::Message> reflected = EmptyDynamic();
    const absl::Status a = Decode(codec_, json, &generated);
    const absl::Status b = Decode(codec_, json, reflected.get());
    EXPECT_EQ(a, b) << json;
    if (a.ok() && b.ok()) {
      EXPECT_EQ(generated.SerializeAsString(), reflected->SerializeAsString())
          << json;
    }
  }

  pb::DynamicMessageFactory factory_;
  const MessageJson codec_{Scalars::descriptor(), {}};
};

TEST_F(FieldAccessTest, GeneratedCodeRegistersTheEligibleFields) {
  const MessageAccess* access =
      FindMessageAccess("zen.codegen_runtime.testing.Scalars");
  ASSERT_NE(access, nullptr);
  EXPECT_TRUE(access->Covers(Scalars()));
  EXPECT_FALSE(access->Covers(*EmptyDynamic()));
  EXPECT_NE(access->Find(1), nullptr);   // int32 i32
  EXPECT_NE(access->Find(14), nullptr);  // string s
  EXPECT_NE(access->Find(16), nullptr);  // optional int32 opt_i32
  EXPECT_EQ(access->Find(15), nullptr);  // an enum: Reflection
  EXPECT_EQ(access->Find(18), nullptr);  // repeated: Reflection
  EXPECT_EQ(access->Find(24), nullptr);  // in a oneof: Reflection
  EXPECT_EQ(access->Find(22), nullptr);  // a message: Reflection
}

TEST_F(FieldAccessTest, EncodesEveryKindOfValueAsReflectionDoes) {
  ExpectSameEncoding(Scalars());
  ExpectSameEncoding(FromText<Scalars>(kAllScalars));
  Scalars limits;
  limits.set_i32(std::numeric_limits<int32_t>::min());
  limits.set_i64(std::numeric_limits<int64_t>::min());
  limits.set_u32(std::numeric_limits<uint32_t>::max());
  limits.set_u64(std::numeric_limits<uint64_t>::max());
  ExpectSameEncoding(limits);
  Scalars special;
  special.set_db(-0.0);  // Set (its bits are not zero), printed as -0.
  special.set_fl(-0.0f);
  ExpectSameEncoding(special);
  special.set_db(std::numeric_limits<double>::quiet_NaN());
  special.set_fl(std::numeric_limits<float>::infinity());
  ExpectSameEncoding(special);
  special.set_db(-std::numeric_limits<double>::infinity());
  special.set_fl(std::numeric_limits<float>::max());
  ExpectSameEncoding(special);
}

TEST_F(FieldAccessTest, RandomMessagesEncodeAndDecodeAsWithReflection) {
  std::mt19937_64 random(20261203);
  auto pick = [&](uint64_t n) { return random() % n; };
  for (int i = 0; i < 2000; ++i) {
    Scalars m;
    const uint64_t bits = random();
    if (pick(2)) m.set_i32(static_cast<int32_t>(bits));
    if (pick(2)) m.set_i64(static_cast<int64_t>(bits));
    if (pick(2)) m.set_u32(static_cast<uint32_t>(bits));
    if (pick(2)) m.set_u64(bits);
    if (pick(2)) m.set_s32(static_cast<int32_t>(bits >> 3));
    if (pick(2)) m.set_f64(bits >> 5);
    if (pick(2)) m.set_sf64(-static_cast<int64_t>(bits >> 7));
    if (pick(2)) m.set_db(std::ldexp(static_cast<double>(bits), -40));
    if (pick(2)) m.set_fl(static_cast<float>(bits % 100000) / 7.0f);
    if (pick(2)) m.set_b(pick(2));
    if (pick(2))
      m.set_s(std::string(pick(40), static_cast<char>('a' + pick(26))));
    if (pick(2)) m.set_opt_i32(static_cast<int32_t>(pick(3)));
    if (pick(2)) m.set_opt_s(pick(2) ? "" : "x");
    if (pick(2)) m.set_opt_b(pick(2));
    if (pick(3) == 0) m.add_r_i32(1);
    if (pick(3) == 0) m.mutable_inner()->set_name("n");
    ExpectSameEncoding(m);
    ExpectSameDecoding(Encode(codec_, m));
  }
}

TEST_F(FieldAccessTest, RejectsAndAcceptsWhatReflectionDoes) {
  for (const char* json : {
           R"({"i32": 2147483648})",
           R"({"i32": -2147483649})",
           R"({"u32": -1})",
           R"({"u64": "18446744073709551616"})",
           R"({"i64": "12"})",
           R"({"i32": 1.0})",
           R"({"i32": 1.5})",
           R"({"fl": 1e300})",
           R"({"fl": "NaN"})",
           R"({"db": "-Infinity"})",
           R"({"b": 1})",
           R"({"b": "true"})",
           R"({"s": 5})",
           R"({"s": "é\u0000"})",
           R"({"opt_i32": null})",
           R"({"opt_s": ""})",
           R"({"camelCaseName": "x"})",
           R"({"s": "a", "s": "b"})",
           R"({"i32": 0, "opt_b": false})",
           R"({"u64": 18446744073709551615})",
       }) {
    ExpectSameDecoding(json);
  }
}

TEST_F(FieldAccessTest, DecodingIntoAReusedMessageLeavesNothingBehind) {
  Scalars m;
  ASSERT_TRUE(
      Decode(codec_, R"({"s": "a long string past the SSO", "i32": 7})", &m)
          .ok());
  ASSERT_TRUE(Decode(codec_, R"({"u32": 1})", &m).ok());
  EXPECT_EQ(m.s(), "");
  EXPECT_EQ(m.i32(), 0);
  EXPECT_EQ(m.u32(), 1u);
}

}  // namespace
}  // namespace zen::codegen_runtime
