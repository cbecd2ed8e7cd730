// The endpoint matching rules, as a table: agent/model/testdata/
// endpoint_matching.json holds each rule's case (endpoints in document
// order, a request, the index of the endpoint it falls under and of every
// endpoint whose patterns match, in matching order). The table was written
// from the reference agent's code and its expectations checked against the
// reference's own matcher; this test holds our matcher to the same table.
#include "agent/model/endpoint_matcher.h"

#include <simdjson.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

constexpr char kTablePath[] = "agent/model/testdata/endpoint_matching.json";

struct Case {
  std::string rule;
  std::vector<std::pair<std::string, std::string>> endpoints;
  std::string method;
  std::string path;
  size_t match = EndpointMatcher::kNone;
  std::vector<size_t> all;
};

std::pair<std::string, std::string> Pair(simdjson::dom::array array) {
  return {std::string(std::string_view(array.at(0))),
          std::string(std::string_view(array.at(1)))};
}

std::vector<Case> LoadTable() {
  std::ifstream file(kTablePath);
  std::stringstream text;
  text << file.rdbuf();
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::vector<Case> cases;
  if (parser.parse(text.str()).get(root) != simdjson::SUCCESS) {
    ADD_FAILURE() << "cannot read " << kTablePath;
    return cases;
  }
  for (simdjson::dom::object entry : simdjson::dom::array(root)) {
    Case c;
    c.rule = std::string(std::string_view(entry["rule"]));
    for (simdjson::dom::array endpoint :
         simdjson::dom::array(entry["endpoints"])) {
      c.endpoints.push_back(Pair(endpoint));
    }
    std::tie(c.method, c.path) = Pair(entry["request"]);
    if (!entry["match"].is_null()) c.match = uint64_t(entry["match"]);
    for (uint64_t index : simdjson::dom::array(entry["all"])) {
      c.all.push_back(index);
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

EndpointMatcher Build(const Case& c) {
  std::vector<std::pair<absl::string_view, absl::string_view>> routes;
  for (const auto& [method, route] : c.endpoints) {
    routes.emplace_back(method, route);
  }
  return EndpointMatcher(routes);
}

TEST(EndpointMatcherTest, FollowsTheReferenceTable) {
  const std::vector<Case> cases = LoadTable();
  // A table that failed to load, or lost its rules, must not pass.
  ASSERT_GE(cases.size(), 40u);
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.rule, ": ", c.method, " ", c.path));
    const EndpointMatcher matcher = Build(c);
    EXPECT_EQ(matcher.Match(c.method, c.path), c.match);
    std::vector<size_t> all;
    matcher.ForEachMatch(c.method, c.path, [&all](size_t index) {
      all.push_back(index);
      return true;
    });
    EXPECT_EQ(all, c.all);
  }
}

TEST(EndpointMatcherTest, ForEachMatchStopsWhenAsked) {
  const EndpointMatcher matcher({{"GET", "/a/*"}, {"*", "*"}});
  int visits = 0;
  matcher.ForEachMatch("GET", "/a/b", [&visits](size_t) {
    ++visits;
    return false;
  });
  EXPECT_EQ(visits, 1);
}

TEST(EndpointMatcherTest, OrderListsEachMethodAndRouteOnce) {
  const EndpointMatcher matcher(
      {{"*", "/x/*"}, {"GET", "/x"}, {"GET", "/x/*"}, {"GET", "/x"}});
  EXPECT_EQ(matcher.order(), (std::vector<size_t>{3, 2, 0}));
}

TEST(WildcardPatternTest, OnlyStarsMatchEverything) {
  EXPECT_TRUE(WildcardPattern("*").Matches(""));
  EXPECT_TRUE(WildcardPattern("**").Matches("a\nb"));
  EXPECT_TRUE(WildcardPattern("*").has_wildcard());
  EXPECT_FALSE(WildcardPattern("/a").has_wildcard());
}

TEST(WildcardPatternTest, FoldsAsciiCaseOnly) {
  EXPECT_TRUE(WildcardPattern("/CaFe").Matches("/cafE"));
  // UTF-8 for É and é: compared as bytes (a deliberate difference).
  EXPECT_FALSE(WildcardPattern("/caf\xc3\x89").Matches("/caf\xc3\xa9"));
  EXPECT_TRUE(WildcardPattern("/caf\xc3\xa9").Matches("/CAF\xc3\xa9"));
}

TEST(WildcardPatternTest, BytesThatAreNotUtf8AreComparedAsBytes) {
  EXPECT_TRUE(WildcardPattern("/*").Matches("/\xff\xfe"));
  EXPECT_FALSE(WildcardPattern("/a").Matches("/\xff"));
}

TEST(WildcardPatternTest, ManyStarsAgainstALongRouteStayLinear) {
  // Leftmost placement never backtracks: a pattern of many stars against a
  // long route that almost matches answers at once (a backtracking regular
  // expression engine would take exponential time here).
  std::string pattern = "/";
  for (int i = 0; i < 64; ++i) pattern += "*a";
  pattern += "b";
  const std::string route = "/" + std::string(100000, 'a');
  EXPECT_FALSE(WildcardPattern(pattern).Matches(route));
  EXPECT_TRUE(WildcardPattern(pattern).Matches(route + "b"));
}

}  // namespace
}  // namespace zen
