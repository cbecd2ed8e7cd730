// Raw_json values spliced into a server's response (ServerContext::
// SpliceRawJson): the bytes are those of the field set in the message, the
// text is neither checked again nor copied, and everything else is still
// checked as before.
#include "codegen_runtime/server_context.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "codegen_runtime/method_codec.h"
#include "codegen_runtime/spliced_json.h"
#include "codegen_runtime/testdata/codec_test.pb.h"
#include "codegen_runtime/validated_json.h"
#include "gtest/gtest.h"
#include "rpc/server_call.h"

namespace zen::codegen_runtime {
namespace {

using ::zen::codegen_runtime::testing::Empty;
using ::zen::codegen_runtime::testing::Mixed;
using ::zen::codegen_runtime::testing::RawResult;

const MethodCodec& MixedCodec() {
  static const MethodCodec* codec = [] {
    MethodSpec spec("mixed", Empty::descriptor(), Mixed::descriptor());
    spec.AddResponseRawJson("settings");
    spec.AddResponseRawJson("other_raw");
    spec.SetNullWhenEmpty(true);
    return new MethodCodec(spec);
  }();
  return *codec;
}

const MethodCodec& RawResultCodec() {
  static const MethodCodec* codec = [] {
    MethodSpec spec("raw", Empty::descriptor(), RawResult::descriptor());
    spec.AddResponseRawJson("value");
    spec.SetResultField("value");
    spec.SetNullWhenEmpty(true);
    return new MethodCodec(spec);
  }();
  return *codec;
}

std::shared_ptr<const std::string> Shared(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

ValidatedJson Valid(std::string text) {
  absl::StatusOr<ValidatedJson> json = ValidatedJson::Validate(std::move(text));
  EXPECT_TRUE(json.ok()) << json.status();
  return json.ok() ? *json : ValidatedJson();
}

RawJsonSplice Splice(const MethodCodec& codec, int number, ValidatedJson json) {
  return {codec.FindResponseRawJsonField(number), std::move(json)};
}

TEST(ValidatedJsonTest, ValidateAcceptsExactlyOneStrictJsonValue) {
  for (const char* good :
       {"null", " [1, {\"a\": \"\\u00e9\"}] ", "\"s\"", "0"}) {
    absl::StatusOr<ValidatedJson> json = ValidatedJson::Validate(good);
    ASSERT_TRUE(json.ok()) << good << ": " << json.status();
    EXPECT_EQ(json->text(), good);
  }
  for (const char* bad : {"", " ", "{", "[1] [2]", "{\"a\":1,}", "NaN",
                          "// c\n1", "'s'", "[1] x"}) {
    EXPECT_EQ(ValidatedJson::Validate(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(ValidatedJson().text(), "null");
  EXPECT_EQ(
      ValidatedJson::Validate(std::shared_ptr<const std::string>())->text(),
      "null");
  EXPECT_EQ(ValidatedJson::AlreadyValidated(nullptr).text(), "null");
}

TEST(SplicedJsonTest, PartsInterleaveOwnAndBorrowedText) {
  SplicedJson json;
  json.AppendBorrowed("[");  // Before any own text.
  json.text()->append("1,");
  json.AppendBorrowed("2");
  json.AppendBorrowed("");  // Left out of parts().
  json.text()->append(",3");
  json.AppendBorrowed("]");
  const auto parts = json.parts();
  EXPECT_EQ(std::vector<absl::string_view>(parts.begin(), parts.end()),
            (std::vector<absl::string_view>{"[", "1,", "2", ",3", "]"}));
  EXPECT_EQ(json.Join(), "[1,2,3]");
}

TEST(SpliceRawJsonTest, BytesAreThoseOfTheFieldSetInTheMessage) {
  const std::string settings = R"( {"a": [1, 2], "b": "\u00e9"} )";
  Mixed in_message;
  in_message.set_settings(settings);
  in_message.set_generation(7);
  in_message.set_other_raw("null");
  in_message.mutable_inner()->set_name("n");
  std::string expected;
  ASSERT_TRUE(MixedCodec().EncodeResult(in_message, &expected).ok());

  Mixed rest;  // The same without the raw_json fields.
  rest.set_generation(7);
  rest.mutable_inner()->set_name("n");
  const RawJsonSplice splices[] = {
      Splice(MixedCodec(), Mixed::kOtherRawFieldNumber, ValidatedJson()),
      Splice(MixedCodec(), Mixed::kSettingsFieldNumber, Valid(settings))};
  SplicedJson out;
  ASSERT_TRUE(MixedCodec().EncodeResult(rest, splices, &out).ok());
  EXPECT_EQ(out.Join(), expected);
}

TEST(SpliceRawJsonTest, TextIsBorrowedNotCopied) {
  const std::shared_ptr<const std::string> cached =
      Shared(absl::StrCat("[\"", std::string(1 << 20, 'x'), "\"]"));
  const RawJsonSplice splices[] = {
      Splice(MixedCodec(), Mixed::kSettingsFieldNumber,
             ValidatedJson::AlreadyValidated(cached))};
  SplicedJson out;
  ASSERT_TRUE(MixedCodec().EncodeResult(Mixed(), splices, &out).ok());
  const auto parts = out.parts();
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], R"({"settings":)");
  EXPECT_EQ(parts[1].data(), cached->data());  // The cached bytes themselves.
  EXPECT_EQ(parts[1].size(), cached->size());
  EXPECT_EQ(parts[2], "}");
}

TEST(SpliceRawJsonTest, VouchedTextIsNotCheckedAgain) {
  // AlreadyValidated takes the caller's word: the encoder does not parse.
  const RawJsonSplice splices[] = {
      Splice(MixedCodec(), Mixed::kSettingsFieldNumber,
             ValidatedJson::AlreadyValidated(Shared("{not checked")))};
  SplicedJson out;
  ASSERT_TRUE(MixedCodec().EncodeResult(Mixed(), splices, &out).ok());
  EXPECT_EQ(out.Join(), R"({"settings":{not checked})");
}

TEST(SpliceRawJsonTest, RawJsonSetInTheMessageIsStillChecked) {
  Mixed response;
  response.set_other_raw("{\"a\":");  // Not JSON, set by the method.
  const RawJsonSplice splices[] = {
      Splice(MixedCodec(), Mixed::kSettingsFieldNumber, Valid("{}"))};
  SplicedJson out;
  absl::Status status = MixedCodec().EncodeResult(response, splices, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("other_raw"), absl::string_view::npos)
      << status;
  // Without splices too (the path every other method takes).
  std::string plain;
  EXPECT_EQ(MixedCodec().EncodeResult(response, &plain).code(),
            absl::StatusCode::kInvalidArgument);
  // A spliced value replaces the message's, which is then neither checked
  // nor sent.
  response.set_settings("{\"a\":");
  response.clear_other_raw();
  SplicedJson replaced;
  ASSERT_TRUE(MixedCodec().EncodeResult(response, splices, &replaced).ok());
  EXPECT_EQ(replaced.Join(), R"({"settings":{}})");
}

TEST(SpliceRawJsonTest, OnlyRawJsonFieldsOfTheResponseCanBeSpliced) {
  EXPECT_EQ(
      MixedCodec().FindResponseRawJsonField(Mixed::kGenerationFieldNumber),
      nullptr);
  EXPECT_EQ(MixedCodec().FindResponseRawJsonField(999), nullptr);
  const RawJsonSplice wrong[] = {
      {Mixed::descriptor()->FindFieldByName("generation"), Valid("1")}};
  SplicedJson out;
  EXPECT_EQ(MixedCodec().EncodeResult(Mixed(), wrong, &out).code(),
            absl::StatusCode::kInvalidArgument);
  const RawJsonSplice other_type[] = {
      {RawResult::descriptor()->FindFieldByName("value"), Valid("1")}};
  EXPECT_EQ(MixedCodec().EncodeResult(Mixed(), other_type, &out).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SpliceRawJsonTest, ResultFieldAndNullWhenEmpty) {
  SplicedJson empty;
  ASSERT_TRUE(RawResultCodec().EncodeResult(RawResult(), {}, &empty).ok());
  EXPECT_EQ(empty.Join(), "null");
  const RawJsonSplice splices[] = {
      Splice(RawResultCodec(), RawResult::kValueFieldNumber, Valid("[1, 2]"))};
  SplicedJson value;
  ASSERT_TRUE(RawResultCodec().EncodeResult(RawResult(), splices, &value).ok());
  EXPECT_EQ(value.Join(), "[1, 2]");
  // A spliced field makes a response non-empty for null_when_empty.
  const RawJsonSplice null_settings[] = {
      Splice(MixedCodec(), Mixed::kSettingsFieldNumber, ValidatedJson())};
  SplicedJson mixed;
  ASSERT_TRUE(MixedCodec().EncodeResult(Mixed(), null_settings, &mixed).ok());
  EXPECT_EQ(mixed.Join(), R"({"settings":null})");
}

// A ServerCall whose sender records what it was given.
struct RecordedCall {
  RecordedCall()
      : call("\"id\"", "mixed", "[]", "{}", nullptr,
             [this](absl::Span<const absl::string_view> parts,
                    const absl::Status& error) {
               ++responses;
               this->error = error;
               for (absl::string_view part : parts) {
                 this->parts.emplace_back(part);
                 data.push_back(part.data());
               }
             }) {}
  std::string Joined() const {
    std::string out;
    for (const std::string& part : parts) out += part;
    return out;
  }
  int responses = 0;
  absl::Status error;
  std::vector<std::string> parts;
  std::vector<const char*> data;
  rpc::ServerCall call;
};

TEST(ServerContextTest, FinishSendsSplicedTextFromItsOwnBuffer) {
  RecordedCall recorded;
  Mixed response;
  codegen_runtime::ServerContext context(&recorded.call, &MixedCodec(),
                                         &response);
  const std::shared_ptr<const std::string> cached = Shared(R"({"k":[true]})");
  ASSERT_TRUE(context
                  .SpliceRawJson(Mixed::kSettingsFieldNumber,
                                 ValidatedJson::AlreadyValidated(cached))
                  .ok());
  response.set_generation(3);
  ASSERT_TRUE(context.Finish().ok());
  EXPECT_EQ(recorded.responses, 1);
  EXPECT_TRUE(recorded.error.ok());
  EXPECT_EQ(recorded.Joined(), R"({"settings":{"k":[true]},"generation":3})");
  ASSERT_EQ(recorded.data.size(), 3u);
  EXPECT_EQ(recorded.data[1], cached->data());
}

TEST(ServerContextTest, RespondNowSendsTheSplicesAsTheyAreThen) {
  RecordedCall recorded;
  Mixed response;
  codegen_runtime::ServerContext context(&recorded.call, &MixedCodec(),
                                         &response);
  ASSERT_TRUE(
      context.SpliceRawJson(Mixed::kSettingsFieldNumber, Valid("1")).ok());
  ASSERT_TRUE(  // Given twice: the later value.
      context.SpliceRawJson(Mixed::kSettingsFieldNumber, Valid("2")).ok());
  ASSERT_TRUE(context.RespondNow().ok());
  EXPECT_EQ(recorded.Joined(), R"({"settings":2})");
  EXPECT_EQ(context.RespondNow().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(context.Finish().ok());
  EXPECT_EQ(recorded.responses, 1);
}

TEST(ServerContextTest, RejectsAFieldThatIsNotRawJson) {
  RecordedCall recorded;
  Mixed response;
  codegen_runtime::ServerContext context(&recorded.call, &MixedCodec(),
                                         &response);
  EXPECT_EQ(
      context.SpliceRawJson(Mixed::kGenerationFieldNumber, Valid("1")).code(),
      absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(context.Finish().ok());
  EXPECT_EQ(recorded.Joined(), "null");  // Nothing was set.
}

TEST(ServerContextTest, InvalidRawJsonInTheMessageIsAnInternalError) {
  RecordedCall recorded;
  Mixed response;
  codegen_runtime::ServerContext context(&recorded.call, &MixedCodec(),
                                         &response);
  ASSERT_TRUE(
      context.SpliceRawJson(Mixed::kSettingsFieldNumber, Valid("{}")).ok());
  response.set_other_raw("[1,");
  EXPECT_EQ(context.Finish().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(recorded.responses, 0);  // Nothing sent.
}

// A connection stand-in for deferred answers: records them, counts
// releases.
class RecordingSink final : public rpc::ResponseSink,
                            public rpc::CallDeferrer,
                            public std::enable_shared_from_this<RecordingSink> {
 public:
  std::unique_ptr<rpc::DeferredResponse> Defer(
      absl::string_view id_json) override {
    return std::make_unique<rpc::DeferredResponse>(shared_from_this(),
                                                   std::string(id_json));
  }
  void SendDeferred(absl::string_view id_json,
                    absl::Span<const absl::string_view> parts,
                    const absl::Status& error) override {
    std::string text(id_json);
    text += " ";
    for (absl::string_view part : parts) text.append(part.data(), part.size());
    if (!error.ok()) text += error.ToString();
    sent.push_back(text);
  }
  void ReleaseDeferred() override { ++released; }
  std::vector<std::string> sent;
  int released = 0;
};

TEST(ServerContextTest, ADeferredAnswerIsEncodedAndSentLater) {
  auto sink = std::make_shared<RecordingSink>();
  rpc::ServerCall call(
      "\"w\"", "mixed", "[]", "{}", nullptr,
      [](absl::Span<const absl::string_view>, const absl::Status&) {
        ADD_FAILURE();
      },
      sink.get());
  Mixed unused;
  std::unique_ptr<codegen_runtime::DeferredServerCall> deferred;
  {
    codegen_runtime::ServerContext context(&call, &MixedCodec(), &unused);
    absl::StatusOr<std::unique_ptr<codegen_runtime::DeferredServerCall>> made =
        context.Defer();
    ASSERT_TRUE(made.ok()) << made.status();
    deferred = std::move(*made);
    EXPECT_TRUE(context.responded());
    EXPECT_EQ(context.Defer().status().code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(context.Finish().ok());  // Sends nothing: deferred.
  }
  EXPECT_TRUE(sink->sent.empty());
  const std::shared_ptr<const std::string> cached = Shared(R"({"k":1})");
  ASSERT_TRUE(deferred
                  ->SpliceRawJson(Mixed::kSettingsFieldNumber,
                                  ValidatedJson::AlreadyValidated(cached))
                  .ok());
  Mixed response;
  response.set_generation(4);
  ASSERT_TRUE(deferred->Finish(response).ok());
  EXPECT_EQ(deferred->Finish(response).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_EQ(sink->sent.size(), 1u);
  EXPECT_EQ(sink->sent[0], R"("w" {"settings":{"k":1},"generation":4})");
  EXPECT_EQ(sink->released, 0);
  deferred.reset();
  EXPECT_EQ(sink->released, 1);
  EXPECT_EQ(sink->sent.size(), 1u);  // No second answer.
}

TEST(ServerContextTest, ADeferredCallDroppedUnansweredIsCancelled) {
  auto sink = std::make_shared<RecordingSink>();
  { rpc::DeferredResponse dropped(sink, "\"d\""); }
  ASSERT_EQ(sink->sent.size(), 1u);
  EXPECT_EQ(sink->sent[0], "\"d\" CANCELLED: the server dropped the call");
  EXPECT_EQ(sink->released, 1);
}

}  // namespace
}  // namespace zen::codegen_runtime
