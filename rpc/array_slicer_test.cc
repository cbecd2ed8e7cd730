#include "rpc/array_slicer.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace zen::rpc::internal {
namespace {

std::vector<std::string> Slice(const std::string& json, size_t count) {
  std::vector<absl::string_view> out(count);
  SliceArrayElements(json, count, out.data());
  return std::vector<std::string>(out.begin(), out.end());
}

using Texts = std::vector<std::string>;

TEST(ArraySlicerTest, SlicesTheEnvelopes) {
  EXPECT_EQ(Slice(R"(["id","echo",[],{"a":1}])", 4),
            (Texts{"\"id\"", "\"echo\"", "[]", "{\"a\":1}"}));
  EXPECT_EQ(Slice(R"(["id",{"big":[1,2,{"x":"]"}]},null])", 3),
            (Texts{"\"id\"", R"({"big":[1,2,{"x":"]"}]})", "null"}));
  EXPECT_EQ(Slice(R"(["id",null,"went wrong"])", 3),
            (Texts{"\"id\"", "null", "\"went wrong\""}));
}

TEST(ArraySlicerTest, LeavesOutTheWhitespaceAroundElements) {
  EXPECT_EQ(Slice(" \n[ \"a\" ,\t\"m\"\r, [ 1 , 2 ] , { } ] \n", 4),
            (Texts{"\"a\"", "\"m\"", "[ 1 , 2 ]", "{ }"}));
  EXPECT_EQ(Slice("[ 1 ,-2.5e+3 , true,false ,null ]", 5),
            (Texts{"1", "-2.5e+3", "true", "false", "null"}));
  EXPECT_EQ(Slice("[ 7 ]", 1), (Texts{"7"}));
  EXPECT_EQ(Slice("[{}]", 1), (Texts{"{}"}));
}

TEST(ArraySlicerTest, BracketsAndQuotesInsideStringsDoNotCount) {
  EXPECT_EQ(Slice(R"(["\"]",["]\\",{"}":"\\\""}],"x"])", 3),
            (Texts{R"("\"]")", R"(["]\\",{"}":"\\\""}])", "\"x\""}));
  EXPECT_EQ(Slice(R"(["\\\\",1])", 2), (Texts{R"("\\\\")", "1"}));
  EXPECT_EQ(Slice(R"(["",""])", 2), (Texts{"\"\"", "\"\""}));
}

// Random valid JSON values, written with random whitespace; the generator
// knows each element's exact text, so the slices can be checked against it.
class JsonGenerator {
 public:
  explicit JsonGenerator(uint32_t seed) : rng_(seed) {}

  std::string Value(int depth) {
    switch (Pick(depth > 3 ? 4 : 6)) {
      case 0:
        return Literal();
      case 1:
        return Number();
      case 2:
      case 3:
        return String();
      case 4:
        return Container(depth, '[', ']', false);
      default:
        return Container(depth, '{', '}', true);
    }
  }

  std::string Space() {
    static const char* const kSpaces[] = {"", "", " ", "\n", "\t ", "\r\n  "};
    return kSpaces[Pick(6)];
  }

  size_t Pick(size_t n) { return rng_() % n; }

 private:
  std::string Literal() {
    static const char* const kLiterals[] = {"null", "true", "false"};
    return kLiterals[Pick(3)];
  }

  std::string Number() {
    static const char* const kNumbers[] = {
        "0",    "-0",   "42",       "-7.25",
        "1e10", "2E-3", "1.5e+300", "12345678901234567890"};
    return kNumbers[Pick(8)];
  }

  std::string String() {
    static const char* const kPieces[] = {"a",   "\\\"",    "\\\\",     "]",
                                          "}",   "[",       "{",        ",",
                                          "\\n", "\\u00e9", "\xc3\xa9", " "};
    std::string s = "\"";
    for (size_t n = Pick(6); n > 0; --n) s += kPieces[Pick(12)];
    return s + "\"";
  }

  std::string Container(int depth, char open, char close, bool keys) {
    std::string s(1, open);
    s += Space();
    for (size_t n = Pick(4), i = 0; i < n; ++i) {
      if (i > 0) s += Space() + "," + Space();
      if (keys) s += String() + Space() + ":" + Space();
      s += Value(depth + 1);
    }
    return s + Space() + close;
  }

  std::mt19937 rng_;
};

TEST(ArraySlicerTest, RandomArraysSliceToTheTextsTheyWereWrittenFrom) {
  JsonGenerator gen(20261203);
  for (int round = 0; round < 20000; ++round) {
    const size_t count = 1 + gen.Pick(5);
    Texts elements;
    std::string json = gen.Space() + "[" + gen.Space();
    for (size_t i = 0; i < count; ++i) {
      elements.push_back(gen.Value(0));
      if (i > 0) json += gen.Space() + "," + gen.Space();
      json += elements.back();
    }
    json += gen.Space() + "]" + gen.Space();
    ASSERT_EQ(Slice(json, count), elements) << json;
  }
}

}  // namespace
}  // namespace zen::rpc::internal
