#include "codegen_runtime/method_codec.h"

#include <string>

#include "codegen_runtime/padded_json.h"
#include "codegen_runtime/testdata/codec_test.pb.h"
#include "gtest/gtest.h"

namespace zen::codegen_runtime {
namespace {

using ::zen::codegen_runtime::testing::Empty;
using ::zen::codegen_runtime::testing::Inner;
using ::zen::codegen_runtime::testing::Positional;
using ::zen::codegen_runtime::testing::RawResult;
using ::zen::codegen_runtime::testing::Samples;

absl::Status DecodeRequest(const MethodCodec& codec, absl::string_view args,
                           absl::string_view kwargs,
                           google::protobuf::Message* request) {
  PaddedJsonString padded_args(args);
  PaddedJsonString padded_kwargs(kwargs);
  return codec.DecodeRequest(padded_args.view(), padded_kwargs.view(), request);
}

absl::Status DecodeResult(const MethodCodec& codec, absl::string_view result,
                          google::protobuf::Message* response) {
  PaddedJsonString padded(result);
  return codec.DecodeResult(padded.view(), response);
}

std::string EncodeResult(const MethodCodec& codec,
                         const google::protobuf::Message& response) {
  std::string out;
  absl::Status status = codec.EncodeResult(response, &out);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

MethodSpec Spec(absl::string_view name, const google::protobuf::Descriptor* in,
                const google::protobuf::Descriptor* out) {
  return MethodSpec(name, in, out);
}

const MethodCodec& PositionalCodec() {
  static const MethodCodec* codec = [] {
    MethodSpec spec("positional", Positional::descriptor(),
                    Empty::descriptor());
    spec.AddRequestRawJson("raw");
    for (const char* field : {"first", "second", "raw", "inner", "counts"}) {
      spec.AddPositionalArg(field);
    }
    spec.SetNullWhenEmpty(true);
    return new MethodCodec(spec);
  }();
  return *codec;
}

const MethodCodec& SamplesCodec() {
  static const MethodCodec* codec = [] {
    MethodSpec spec("samples", Empty::descriptor(), Samples::descriptor());
    spec.SetResultField("samples");
    spec.SetNullWhenEmpty(true);
    return new MethodCodec(spec);
  }();
  return *codec;
}

TEST(MethodCodecTest, SendsPositionalFieldsAsArgsLikeTheReferenceClient) {
  Positional request;
  request.set_first(0);
  request.set_raw("{\"k\": 1}");
  std::string args, kwargs;
  ASSERT_TRUE(PositionalCodec().EncodeRequest(request, &args, &kwargs).ok());
  // Unset fields with presence and unset messages are the reference's nil.
  EXPECT_EQ(args, "[0,null,{\"k\": 1},null,{}]");
  EXPECT_EQ(kwargs, "{}");
}

TEST(MethodCodecTest, SendsEmptyPositionalRequestAsNullsAndEmptyKwargs) {
  std::string args, kwargs;
  ASSERT_TRUE(
      PositionalCodec().EncodeRequest(Positional(), &args, &kwargs).ok());
  EXPECT_EQ(args, "[null,null,null,null,{}]");
  EXPECT_EQ(kwargs, "{}");
}

TEST(MethodCodecTest, SendsRequestWithoutPositionalArgsAsKwargsObject) {
  const MethodCodec codec(
      Spec("keyword", Inner::descriptor(), Empty::descriptor()));
  Inner request;
  request.set_name("n");
  std::string args, kwargs;
  ASSERT_TRUE(codec.EncodeRequest(request, &args, &kwargs).ok());
  EXPECT_EQ(args, "[]");
  EXPECT_EQ(kwargs, "{\"name\":\"n\"}");
}

TEST(MethodCodecTest, PositionalRequestDecodesBackToTheSameMessage) {
  Positional request;
  request.set_second(-3);
  request.mutable_inner()->set_name("x");
  (*request.mutable_counts())["c"] = 4;
  std::string args, kwargs;
  ASSERT_TRUE(PositionalCodec().EncodeRequest(request, &args, &kwargs).ok());
  Positional decoded;
  ASSERT_TRUE(DecodeRequest(PositionalCodec(), args, kwargs, &decoded).ok());
  EXPECT_EQ(decoded.SerializeAsString(), request.SerializeAsString())
      << args << " " << kwargs;
}

TEST(MethodCodecTest, MapsPositionalArgsToNamedFields) {
  Positional request;
  ASSERT_TRUE(DecodeRequest(PositionalCodec(),
                            R"([5, null, {"x": [1] }, {"name":"n"},)"
                            R"( {"a":2}, "extra", 7])",
                            "{}", &request)
                  .ok());
  EXPECT_TRUE(request.has_first());
  EXPECT_EQ(request.first(), 5);
  EXPECT_FALSE(request.has_second());  // null: not given.
  EXPECT_EQ(request.raw(), R"({"x": [1] })");
  EXPECT_EQ(request.inner().name(), "n");
  EXPECT_EQ(request.counts().at("a"), 2);
}

TEST(MethodCodecTest, MergesPositionalArgsWithKwargsWhichWin) {
  Positional request;
  ASSERT_TRUE(DecodeRequest(PositionalCodec(), "[1, 2]",
                            R"({"second": 20, "unknown": 3})", &request)
                  .ok());
  EXPECT_EQ(request.first(), 1);
  EXPECT_EQ(request.second(), 20);
}

TEST(MethodCodecTest, TreatsEmptyArgsAsKwargsOnly) {
  Positional request;
  ASSERT_TRUE(
      DecodeRequest(PositionalCodec(), " [ ] ", R"({"first": 3})", &request)
          .ok());
  EXPECT_EQ(request.first(), 3);
}

TEST(MethodCodecTest, IgnoresArgsOfMethodsWithoutPositionalArgs) {
  Inner request;
  MethodCodec codec(Spec("plain", Inner::descriptor(), Empty::descriptor()));
  ASSERT_TRUE(
      DecodeRequest(codec, "[1, 2, 3]", R"({"name": "k"})", &request).ok());
  EXPECT_EQ(request.name(), "k");
}

TEST(MethodCodecTest, RejectsRequestsThatDoNotFit) {
  Positional request;
  absl::Status status =
      DecodeRequest(PositionalCodec(), "[\"five\"]", "{}", &request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "request of 'positional': field 'first': not an integer in the "
            "field's range");
  EXPECT_EQ(DecodeRequest(PositionalCodec(), "[]", "{\"raw\": nope}", &request)
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MethodCodecTest, AnswersNullForAnEmptyResponseWhenAsked) {
  EXPECT_EQ(EncodeResult(PositionalCodec(), Empty()), "null");
  MethodCodec plain(Spec("plain", Empty::descriptor(), Inner::descriptor()));
  EXPECT_EQ(EncodeResult(plain, Inner()), "{}");
  Inner inner;
  inner.set_count(0);
  inner.mutable_child();
  EXPECT_EQ(EncodeResult(plain, inner), R"({"child":{}})");
}

TEST(MethodCodecTest, ReadsNullResultAsEmptyResponse) {
  MethodCodec plain(Spec("plain", Empty::descriptor(), Inner::descriptor()));
  Inner response;
  response.set_name("stale");
  ASSERT_TRUE(DecodeResult(plain, " null ", &response).ok());
  EXPECT_EQ(response.ByteSizeLong(), 0u);
}

TEST(MethodCodecTest, UnwrapsTheResultField) {
  Samples response;
  response.add_samples()->set_name("GET");
  response.add_samples()->set_name("POST");
  const std::string result = EncodeResult(SamplesCodec(), response);
  EXPECT_EQ(result, R"([{"name":"GET"},{"name":"POST"}])");
  Samples decoded;
  ASSERT_TRUE(DecodeResult(SamplesCodec(), result, &decoded).ok());
  ASSERT_EQ(decoded.samples_size(), 2);
  EXPECT_EQ(decoded.samples(1).name(), "POST");
}

TEST(MethodCodecTest, SendsNullForAnEmptyResultField) {
  EXPECT_EQ(EncodeResult(SamplesCodec(), Samples()), "null");
  MethodSpec spec("samples", Empty::descriptor(), Samples::descriptor());
  spec.SetResultField("samples");
  MethodCodec no_null(spec);
  EXPECT_EQ(EncodeResult(no_null, Samples()), "[]");
  Samples decoded;
  ASSERT_TRUE(DecodeResult(SamplesCodec(), "null", &decoded).ok());
  EXPECT_EQ(decoded.samples_size(), 0);
}

TEST(MethodCodecTest, UnwrapsARawJsonResultField) {
  MethodSpec spec("raw", Empty::descriptor(), RawResult::descriptor());
  spec.AddResponseRawJson("value");
  spec.SetResultField("value");
  MethodCodec codec(spec);
  RawResult response;
  response.set_value("[ 1 ,2 ]");
  EXPECT_EQ(EncodeResult(codec, response), "[ 1 ,2 ]");
  RawResult decoded;
  ASSERT_TRUE(DecodeResult(codec, "{ \"a\" : 1 }", &decoded).ok());
  EXPECT_EQ(decoded.value(), "{ \"a\" : 1 }");
}

TEST(MethodCodecTest, RejectsResultsThatDoNotFit) {
  MethodCodec plain(Spec("plain", Empty::descriptor(), Inner::descriptor()));
  Inner response;
  absl::Status status = DecodeResult(plain, "\"ok\"", &response);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "result of 'plain': message is not a JSON object");
  Samples samples;
  EXPECT_EQ(DecodeResult(SamplesCodec(), "{\"name\":1}", &samples).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MethodCodecDeathTest, AbortsWhenTheSpecDoesNotMatchTheProto) {
  MethodSpec bad_positional("bad", Positional::descriptor(),
                            Empty::descriptor());
  bad_positional.AddPositionalArg("nope");
  EXPECT_DEATH(
      MethodCodec{bad_positional},
      "codegen_runtime: method bad: positional argument 'nope' is not a field");
  MethodSpec bad_raw("bad", Positional::descriptor(), Empty::descriptor());
  bad_raw.AddRequestRawJson("first");
  EXPECT_DEATH(MethodCodec{bad_raw}, "not a singular string field");
}

}  // namespace
}  // namespace zen::codegen_runtime
