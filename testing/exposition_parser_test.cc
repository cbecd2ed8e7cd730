#include "testing/exposition_parser.h"

#include <string>

#include "gtest/gtest.h"

namespace zen::testing {
namespace {

constexpr char kGood[] =
    "# HELP rpc_calls_total Calls, by \\\\ method.\\nSecond line.\n"
    "# TYPE rpc_calls_total counter\n"
    "rpc_calls_total{method=\"a\\\"b\\\\c\\nd\"} 3\n"
    "rpc_calls_total{method=\"x\"} 0 1700000000000\n"
    "# a plain comment\n"
    "# TYPE rpc_latency_seconds histogram\n"
    "rpc_latency_seconds_bucket{method=\"x\",le=\"0.001\"} 1\n"
    "rpc_latency_seconds_bucket{method=\"x\",le=\"1\"} 2\n"
    "rpc_latency_seconds_bucket{method=\"x\",le=\"+Inf\"} 2\n"
    "rpc_latency_seconds_sum{method=\"x\"} 0.5\n"
    "rpc_latency_seconds_count{method=\"x\"} 2\n"
    "\n"
    "up 1\n"
    "# TYPE temp gauge\n"
    "temp -1.5e3\n";

TEST(ExpositionParserTest, AcceptsWellFormedText) {
  absl::StatusOr<Exposition> parsed = ParseExposition(kGood);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->families.at("rpc_calls_total").help,
            "Calls, by \\ method.\nSecond line.");
  EXPECT_EQ(parsed->families.at("rpc_calls_total").type, "counter");
  EXPECT_EQ(parsed->Value("rpc_calls_total", {{"method", "a\"b\\c\nd"}}), 3);
  EXPECT_EQ(parsed->Value("rpc_latency_seconds_count", {{"method", "x"}}), 2);
  EXPECT_EQ(parsed->families.at("rpc_latency_seconds").samples.size(), 5u);
  EXPECT_EQ(parsed->families.at("up").type, "untyped");
  EXPECT_EQ(parsed->Value("temp"), -1500);
  EXPECT_FALSE(parsed->Value("rpc_calls_total", {{"method", "y"}}));
}

TEST(ExpositionParserTest, AcceptsEmptyText) {
  EXPECT_TRUE(ParseExposition("").ok());
}

// Each case is kGood's shape broken in one way.
struct Bad {
  const char* why;
  const char* text;
};

class ExpositionParserRejects : public ::testing::TestWithParam<Bad> {};

TEST_P(ExpositionParserRejects, MalformedInput) {
  absl::StatusOr<Exposition> parsed = ParseExposition(GetParam().text);
  EXPECT_FALSE(parsed.ok()) << GetParam().why;
  if (!parsed.ok()) {
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ExpositionParserRejects,
    ::testing::Values(
        Bad{"no final newline", "up 1"},
        Bad{"name starts with a digit", "1up 1\n"},
        Bad{"name with a dash", "up-time 1\n"},
        Bad{"bad name in TYPE", "# TYPE up-time counter\n"},
        Bad{"label name with a dash", "up{my-label=\"x\"} 1\n"},
        Bad{"reserved label name", "up{__name__=\"x\"} 1\n"},
        Bad{"label value not quoted", "up{a=x} 1\n"},
        Bad{"unknown escape", "up{a=\"\\t\"} 1\n"},
        Bad{"unterminated label value", "up{a=\"x} 1\n"},
        Bad{"unescaped quote ends early", "up{a=\"x\"y\"} 1\n"},
        Bad{"label given twice", "up{a=\"x\",a=\"y\"} 1\n"},
        Bad{"trailing comma", "up{a=\"x\",} 1\n"}, Bad{"no value", "up\n"},
        Bad{"two spaces", "up  1\n"}, Bad{"value not a number", "up one\n"},
        Bad{"lower-case inf", "up inf\n"}, Bad{"hex float", "up 0x10\n"},
        Bad{"fractional timestamp", "up 1 1.5\n"},
        Bad{"extra token", "up 1 2 3\n"},
        Bad{"duplicate series", "up{a=\"x\"} 1\nup{a=\"x\"} 2\n"},
        Bad{"duplicate series, labels reordered",
            "up{a=\"x\",b=\"y\"} 1\nup{b=\"y\",a=\"x\"} 2\n"},
        Bad{"TYPE after samples", "c 1\n# TYPE c counter\n"},
        Bad{"second TYPE", "# TYPE c counter\n# TYPE c counter\n"},
        Bad{"second HELP", "# HELP c x\n# HELP c y\n"},
        Bad{"unknown type", "# TYPE c meter\n"},
        Bad{"family not together", "a 1\nb 1\na{x=\"1\"} 1\n"},
        Bad{"negative counter", "# TYPE c counter\nc -1\n"},
        Bad{"counter NaN", "# TYPE c counter\nc NaN\n"},
        Bad{"bad HELP escape", "# HELP c a\\tb\n"},
        Bad{"buckets not cumulative",
            "# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\n"
            "h_sum 1\nh_count 2\n"},
        Bad{"no +Inf bucket",
            "# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 2\nh_sum 1\nh_count 2\n"},
        Bad{"_count unlike +Inf",
            "# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 2\n"
            "h_sum 1\nh_count 3\n"},
        Bad{"no _count",
            "# TYPE h histogram\n"
            "h_bucket{le=\"+Inf\"} 2\nh_sum 1\n"},
        Bad{"le not increasing",
            "# TYPE h histogram\n"
            "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
            "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"},
        Bad{"bucket without le",
            "# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n"},
        Bad{"le outside a bucket",
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\n"
            "h_sum{le=\"1\"} 1\nh_count 1\n"},
        Bad{"bad le",
            "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n"
            "h_sum 1\nh_count 1\n"},
        Bad{"plain sample in a histogram", "# TYPE h histogram\nh 1\n"}));

}  // namespace
}  // namespace zen::testing
