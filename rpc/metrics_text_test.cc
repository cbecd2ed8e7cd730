#include "rpc/metrics_text.h"

#include <string>

#include "gtest/gtest.h"
#include "testing/exposition_parser.h"

namespace zen::rpc {
namespace {

using ::zen::testing::ParseExposition;

TEST(MetricsTextTest, NanosAsExactSeconds) {
  std::string s;
  AppendNanosAsSeconds(0, &s);
  s += " ";
  AppendNanosAsSeconds(50000, &s);
  s += " ";
  AppendNanosAsSeconds(2000000000, &s);
  s += " ";
  AppendNanosAsSeconds(1234567890123, &s);
  EXPECT_EQ(s, "0 0.00005 2 1234.567890123");
}

TEST(MetricsTextTest, EscapesLabelValues) {
  std::string s;
  AppendEscapedLabelValue("a\"b\\c\nd", &s);
  EXPECT_EQ(s, "a\\\"b\\\\c\\nd");
}

TEST(MetricsTextTest, ValidatesMetricNames) {
  EXPECT_TRUE(IsValidMetricName("zen_rpc:x_1"));
  EXPECT_FALSE(IsValidMetricName("1x"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_FALSE(IsValidMetricName(""));
  std::string out;
  AppendMethodMetrics("bad-prefix", "x", {}, &out);
  EXPECT_EQ(out, "");
}

TEST(MetricsTextTest, WritesWhatAStrictParserReadsBack) {
  MethodStats ping, odd;
  ping.Record(absl::StatusCode::kOk, 30000);
  ping.Record(absl::StatusCode::kOk, 700000);
  ping.Record(absl::StatusCode::kUnavailable, 5000000000);
  MetricsSnapshot snapshot;
  snapshot["ping"] = ping.Read();
  snapshot["we\"ird\\na\nme"] = odd.Read();
  std::string out;
  AppendMethodMetrics("zen_rpc_server", "this server handled", snapshot, &out);
  AppendMethodMetrics("zen_rpc_client", "workers made", {}, &out);
  absl::StatusOr<testing::Exposition> parsed = ParseExposition(out);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << out;
  EXPECT_EQ(parsed->Value("zen_rpc_server_calls_total", {{"method", "ping"}}),
            3);
  EXPECT_EQ(parsed->Value("zen_rpc_server_errors_total",
                          {{"method", "ping"}, {"code", "UNAVAILABLE"}}),
            1);
  EXPECT_EQ(parsed->Value("zen_rpc_server_latency_seconds_bucket",
                          {{"method", "ping"}, {"le", "0.00005"}}),
            1);
  EXPECT_EQ(parsed->Value("zen_rpc_server_latency_seconds_bucket",
                          {{"method", "ping"}, {"le", "1"}}),
            2);
  EXPECT_EQ(parsed->Value("zen_rpc_server_latency_seconds_bucket",
                          {{"method", "ping"}, {"le", "+Inf"}}),
            3);
  EXPECT_DOUBLE_EQ(*parsed->Value("zen_rpc_server_latency_seconds_sum",
                                  {{"method", "ping"}}),
                   5.00073);
  EXPECT_EQ(parsed->Value("zen_rpc_server_calls_total",
                          {{"method", "we\"ird\\na\nme"}}),
            0);
  EXPECT_EQ(parsed->families.at("zen_rpc_client_latency_seconds").type,
            "histogram");
}

}  // namespace
}  // namespace zen::rpc
