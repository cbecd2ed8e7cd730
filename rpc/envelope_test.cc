#include "rpc/envelope.h"

#include <string>

#include "gtest/gtest.h"
#include "rpc/json_writer.h"

namespace zen::rpc {
namespace {

// simdjson reads up to 64 bytes past the end; give it a padded copy.
struct Padded {
  explicit Padded(std::string s) : text(std::move(s)) {
    storage = text + std::string(64, ' ');
  }
  absl::string_view view() const {
    return absl::string_view(storage.data(), text.size());
  }
  std::string text;
  std::string storage;
};

absl::Status ParseReq(const std::string& json, RequestView* out = nullptr) {
  RequestView scratch;
  Padded p(json);
  return EnvelopeParser(64).ParseRequest(p.view(), out ? out : &scratch);
}

TEST(EnvelopeTest, ParsesRequestAndKeepsRawArgs) {
  Padded p(R"(["abc","echo",[1, {"x":"y"}] , {"k" : [true,null]}])");
  RequestView r;
  ASSERT_TRUE(EnvelopeParser(64).ParseRequest(p.view(), &r).ok());
  EXPECT_EQ(r.id_json, "\"abc\"");
  EXPECT_EQ(r.method, "echo");
  EXPECT_EQ(r.args, R"([1, {"x":"y"}])");
  EXPECT_EQ(r.kwargs, R"({"k" : [true,null]})");
}

TEST(EnvelopeTest, WrongShapesAreInvalidArgument) {
  for (const char* json :
       {"null", "42", "\"s\"", "{}", "[]", R"(["a","m",[]])",
        R"(["a","m",[],{},1])", R"([1,"m",[],{}])", R"(["a",1,[],{}])",
        R"(["a","m",{},{}])", R"(["a","m",[],[]])"}) {
    EXPECT_EQ(ParseReq(json).code(), absl::StatusCode::kInvalidArgument)
        << json;
  }
}

TEST(EnvelopeTest, NonJsonIsDataLoss) {
  for (const char* json :
       {"", "nope", R"(["a","m",[],{}] x)", R"(["a","m",[NaN],{}])",
        R"(["a","m",[Infinity],{}])", R"(/* c */ ["a","m",[],{}])",
        R"(["a","m",[1e400],{}])", R"(["a","m",["\ud800"],{}])"}) {
    EXPECT_EQ(ParseReq(json).code(), absl::StatusCode::kDataLoss) << json;
  }
  EXPECT_EQ(ParseReq(std::string("[\"a\",\"m\",[\"\xff\"],{}]")).code(),
            absl::StatusCode::kDataLoss);
  // A byte order mark is not JSON text, whichever simdjson is installed.
  EXPECT_EQ(ParseReq("\xEF\xBB\xBF[\"a\",\"m\",[],{}]").code(),
            absl::StatusCode::kDataLoss);
  ResponseView response;
  Padded bom("\xEF\xBB\xBF[\"id\",{\"a\":1},null]");
  EXPECT_EQ(EnvelopeParser(64).ParseResponse(bom.view(), &response).code(),
            absl::StatusCode::kDataLoss);
}

TEST(EnvelopeTest, NestingBeyondLimitIsDataLoss) {
  std::string deep =
      R"(["a","m",)" + std::string(100, '[') + std::string(100, ']') + ",{}]";
  EXPECT_EQ(ParseReq(deep).code(), absl::StatusCode::kDataLoss);
  std::string ok =
      R"(["a","m",)" + std::string(20, '[') + std::string(20, ']') + ",{}]";
  EXPECT_TRUE(ParseReq(ok).ok());
}

TEST(EnvelopeTest, ParsesResponsesWithBothErrorForms) {
  EnvelopeParser parser(64);
  ResponseView r;
  Padded ok(R"(["id1",{"a":[1,2]},null])");
  ASSERT_TRUE(parser.ParseResponse(ok.view(), &r).ok());
  EXPECT_EQ(r.id, "id1");
  EXPECT_EQ(r.result, R"({"a":[1,2]})");
  EXPECT_TRUE(r.error.ok());

  Padded ruby(R"(["id2",null,"something went wrong"])");
  ASSERT_TRUE(parser.ParseResponse(ruby.view(), &r).ok());
  EXPECT_EQ(r.error.code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(r.error.message(), "something went wrong");

  Padded ours(R"(["id3",null,{"code":"NOT_FOUND","message":"no such"}])");
  ASSERT_TRUE(parser.ParseResponse(ours.view(), &r).ok());
  EXPECT_EQ(r.error.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r.error.message(), "no such");

  Padded scalar(R"(["id4","first",false])");
  ASSERT_TRUE(parser.ParseResponse(scalar.view(), &r).ok());
  EXPECT_TRUE(r.error.ok());
  EXPECT_EQ(r.result, "\"first\"");
}

TEST(EnvelopeTest, ErrorJsonRoundTrips) {
  const absl::Status error = absl::InvalidArgumentError("bad \"thing\"\n");
  const std::string json = ErrorJson(error);
  EXPECT_EQ(json, R"({"code":"INVALID_ARGUMENT","message":"bad \"thing\"\n"})");
  EXPECT_EQ(ErrorFromJson(json), error);
}

TEST(EnvelopeTest, TheReferencesUnknownMethodTextIsUnimplemented) {
  EXPECT_EQ(ErrorFromJson(R"("undefined handler 'watch_settings'")"),
            absl::UnimplementedError("undefined handler 'watch_settings'"));
  // Any other string stays UNKNOWN, even one that begins alike.
  EXPECT_EQ(ErrorFromJson(R"("undefined handler 'x' in y")").code(),
            absl::StatusCode::kUnknown);
  EXPECT_EQ(ErrorFromJson(R"("boom")"), absl::UnknownError("boom"));
}

TEST(JsonWriterTest, EscapesLikeTheReference) {
  EXPECT_EQ(JsonString("a/b"), "\"a/b\"");
  EXPECT_EQ(JsonString("\x01\n\t\"\\"), "\"\\u0001\\n\\t\\\"\\\\\"");
  EXPECT_EQ(JsonString("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // Raw UTF-8.
  EXPECT_EQ(JsonString("bad\xff"), "\"bad\xef\xbf\xbd\"");  // Replaced.
}

TEST(RequestPartsTest, ConcatenatesToTheWireForm) {
  RequestParts parts("id-1", "\"echo\"", "[]", "{\"a\":1}");
  std::string joined;
  for (absl::string_view p : parts.parts()) joined.append(p.data(), p.size());
  EXPECT_EQ(joined, R"(["id-1","echo",[],{"a":1}])");
}

std::string Joined(const RequestParts& parts) {
  std::string joined;
  for (absl::string_view p : parts.parts()) joined.append(p.data(), p.size());
  return joined;
}

TEST(RequestPartsTest, APlainMethodIsWrittenAsJsonStringWouldWriteIt) {
  for (absl::string_view method : {"echo", "", "calculate_rate_limits",
                                   "zen.Echo/Say-1", "a b~!?{}[]", "del\x7f"}) {
    ASSERT_TRUE(NeedsNoEscaping(method)) << method;
    EXPECT_EQ(
        Joined(
            RequestParts::WithPlainMethod("id-1", method, "[1]", "{\"a\":1}")),
        Joined(RequestParts("id-1", JsonString(method), "[1]", "{\"a\":1}")));
  }
  for (absl::string_view method : std::initializer_list<absl::string_view>{
           "say \"hi\"", "back\\slash", "tab\t", "caf\xc3\xa9",
           absl::string_view("nul\0", 4)}) {
    EXPECT_FALSE(NeedsNoEscaping(method)) << method;
  }
}

}  // namespace
}  // namespace zen::rpc
