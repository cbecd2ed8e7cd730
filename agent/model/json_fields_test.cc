#include "agent/model/json_fields.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace zen {
namespace json_fields {
namespace {

constexpr size_t kLimit = 1 << 20;

simdjson::dom::object ParseObject(simdjson::dom::parser* parser,
                                  absl::string_view text) {
  absl::StatusOr<simdjson::dom::element> root =
      ParseDocument(parser, text, "test", kLimit);
  EXPECT_TRUE(root.ok()) << root.status();
  absl::StatusOr<simdjson::dom::object> object = ObjectValue(*root, "");
  EXPECT_TRUE(object.ok()) << object.status();
  return *object;
}

TEST(JsonFieldsTest, RejectsMalformedJsonNamingTheDocument) {
  simdjson::dom::parser parser;
  for (const char* text : {"{", "{\"a\":}", "[1,]", "{} x", "NaN", "",
                           "{\"a\":1 /* comment */}"}) {
    absl::StatusOr<simdjson::dom::element> root =
        ParseDocument(&parser, text, "runtime config", kLimit);
    ASSERT_FALSE(root.ok()) << text;
    EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(root.status().message().find("runtime config"),
              absl::string_view::npos);
  }
}

TEST(JsonFieldsTest, RejectsDocumentOverTheSizeLimit) {
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::element> root =
      ParseDocument(&parser, "[1, 2, 3]", "lists", 4);
  EXPECT_EQ(root.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(JsonFieldsTest, DomOutlivesTheInputText) {
  simdjson::dom::parser parser;
  std::string text = R"({"name":"value"})";
  simdjson::dom::object object = ParseObject(&parser, text);
  text.assign(text.size(), 'x');
  EXPECT_EQ(*StringField(object, "name", "", ""), "value");
}

TEST(JsonFieldsTest, AbsentAndNullTakeTheDefault) {
  simdjson::dom::parser parser;
  simdjson::dom::object object =
      ParseObject(&parser, R"({"b": null, "i": null, "s": null})");
  EXPECT_EQ(*BoolField(object, "b", true, ""), true);
  EXPECT_EQ(*BoolField(object, "missing", false, ""), false);
  EXPECT_EQ(*IntField(object, "i", 7, ""), 7);
  EXPECT_EQ(*StringField(object, "s", "dflt", ""), "dflt");
  EXPECT_FALSE(ArrayField(object, "a", "")->has_value());
  EXPECT_FALSE(ObjectField(object, "o", "")->has_value());
}

TEST(JsonFieldsTest, WrongTypeNamesTheFieldPath) {
  simdjson::dom::parser parser;
  simdjson::dom::object object = ParseObject(
      &parser, R"({"b": "yes", "i": "1", "s": 5, "a": {}, "o": []})");
  absl::Status status = BoolField(object, "b", false, "root").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "root.b: expected a boolean, got a string");
  EXPECT_EQ(IntField(object, "i", 0, "").status().message(),
            "i: expected an integer, got a string");
  EXPECT_FALSE(StringField(object, "s", "", "").ok());
  EXPECT_FALSE(ArrayField(object, "a", "").ok());
  EXPECT_FALSE(ObjectField(object, "o", "").ok());
}

TEST(JsonFieldsTest, IntegersAcceptWholeDoublesOnly) {
  simdjson::dom::parser parser;
  simdjson::dom::object object =
      ParseObject(&parser,
                  R"({"a": 60000, "b": 6e4, "c": 1.5, "d": 18446744073709551615,
          "e": -5, "f": 1e300})");
  EXPECT_EQ(*IntField(object, "a", 0, ""), 60000);
  EXPECT_EQ(*IntField(object, "b", 0, ""), 60000);
  EXPECT_FALSE(IntField(object, "c", 0, "").ok());
  EXPECT_FALSE(IntField(object, "d", 0, "").ok());
  EXPECT_EQ(*IntField(object, "e", 0, ""), -5);
  EXPECT_FALSE(IntField(object, "f", 0, "").ok());
}

TEST(JsonFieldsTest, IdsMayBeStringsOrIntegers) {
  simdjson::dom::parser parser;
  simdjson::dom::element root =
      *ParseDocument(&parser, R"(["u1", 42, 1.5, true])", "ids", kLimit);
  simdjson::dom::array ids = root.get_array().value_unsafe();
  EXPECT_EQ(*IdValue(ids.at(0).value_unsafe(), "ids[0]"), "u1");
  EXPECT_EQ(*IdValue(ids.at(1).value_unsafe(), "ids[1]"), "42");
  EXPECT_FALSE(IdValue(ids.at(2).value_unsafe(), "ids[2]").ok());
  EXPECT_FALSE(IdValue(ids.at(3).value_unsafe(), "ids[3]").ok());
}

TEST(JsonFieldsTest, ForEachStringVisitsStringsInOrder) {
  simdjson::dom::parser parser;
  simdjson::dom::element root =
      *ParseDocument(&parser, R"(["a", "b", "c"])", "list", kLimit);
  std::string seen;
  absl::Status status =
      ForEachString(root.get_array().value_unsafe(), "list",
                    [&](absl::string_view value, size_t index) {
                      absl::StrAppend(&seen, value, index);
                      return absl::OkStatus();
                    });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(seen, "a0b1c2");
}

TEST(JsonFieldsTest, ForEachStringStopsAtNonStringOrCallbackError) {
  simdjson::dom::parser parser;
  simdjson::dom::element root =
      *ParseDocument(&parser, R"(["a", 1, "c"])", "list", kLimit);
  int calls = 0;
  absl::Status status = ForEachString(root.get_array().value_unsafe(), "ips",
                                      [&](absl::string_view, size_t) {
                                        ++calls;
                                        return absl::OkStatus();
                                      });
  EXPECT_EQ(status.message(), "ips[1]: expected a string, got a number");
  EXPECT_EQ(calls, 1);

  status = ForEachString(root.get_array().value_unsafe(), "ips",
                         [](absl::string_view, size_t) {
                           return absl::InvalidArgumentError("stop");
                         });
  EXPECT_EQ(status.message(), "stop");
}

TEST(JsonFieldsTest, IpSetValueBuildsSetOrNamesTheBadEntry) {
  simdjson::dom::parser parser;
  simdjson::dom::element good =
      *ParseDocument(&parser, R"(["1.2.3.4", "10.0.0.0/8"])", "ips", kLimit);
  absl::StatusOr<IpSet> set =
      IpSetValue(good.get_array().value_unsafe(), "ips");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(set->Contains("10.1.1.1"));

  simdjson::dom::element bad =
      *ParseDocument(&parser, R"(["1.2.3.4", "10.0.0.0/88"])", "ips", kLimit);
  set = IpSetValue(bad.get_array().value_unsafe(), "x.ips");
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(set.status().message(),
            "x.ips[1]: invalid IP address or CIDR block \"10.0.0.0/88\": "
            "prefix length over 32");
}

TEST(JsonFieldsTest, BuildsPaths) {
  EXPECT_EQ(FieldPath("", "a"), "a");
  EXPECT_EQ(FieldPath("a", "b"), "a.b");
  EXPECT_EQ(IndexPath("endpoints", 3), "endpoints[3]");
}

}  // namespace
}  // namespace json_fields
}  // namespace zen
