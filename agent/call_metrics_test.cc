#include "agent/call_metrics.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "agent/agent_server.h"
#include "gtest/gtest.h"
#include "rpc/server.h"
#include "testing/exposition_parser.h"
#include "testing/test_secret.h"

namespace zen {
namespace {

agent::MethodMetrics Entry(const std::string& method, uint64_t calls) {
  rpc::MethodCounts counts;
  counts.buckets[3] = calls;
  counts.codes[0] = calls;
  counts.latency_sum_nanos = calls * 300000;
  agent::MethodMetrics entry;
  MethodCountsToProto(method, counts, &entry);
  return entry;
}

TEST(WorkerMetricsTest, AddsReportsAndRoundTripsCounts) {
  WorkerMetrics sums;
  agent::ReportMetricsRequest report;
  *report.add_methods() = Entry("ping", 2);
  sums.Add(report);
  sums.Add(report);
  const rpc::MetricsSnapshot total = sums.Sum();
  ASSERT_EQ(total.size(), 1u);
  EXPECT_EQ(total.at("ping").calls(), 4u);
  EXPECT_EQ(total.at("ping").buckets[3], 4u);
  EXPECT_EQ(total.at("ping").latency_sum_nanos, 1200000u);
  EXPECT_EQ(sums.reports(), 2u);
  EXPECT_EQ(sums.rejected(), 0u);
}

TEST(WorkerMetricsTest, BoundsWhatAHostileWorkerCanMakeItKeep) {
  WorkerMetrics sums(WorkerMetricsOptions{/*max_methods=*/4});
  agent::ReportMetricsRequest report;
  for (int i = 0; i < 10; ++i)
    *report.add_methods() = Entry(absl::StrCat("m", i), 1);
  *report.add_methods() = Entry("bad\"name\n", 1);
  *report.add_methods() = Entry(std::string(65, 'x'), 1);
  agent::MethodMetrics too_long = Entry("m0", 1);
  too_long.add_buckets(1);
  *report.add_methods() = too_long;
  agent::MethodMetrics unbalanced = Entry("m0", 1);
  unbalanced.set_codes(0, 5);
  *report.add_methods() = unbalanced;
  sums.Add(report);
  agent::ReportMetricsRequest overflow;
  *overflow.add_methods() = Entry("m0", ~uint64_t{0});
  sums.Add(overflow);

  const rpc::MetricsSnapshot total = sums.Sum();
  EXPECT_EQ(total.size(), 5u);  // m0..m3 and "_other".
  EXPECT_EQ(total.at("m0").calls(), 1u);
  EXPECT_EQ(total.at(std::string(WorkerMetrics::kOtherMethod)).calls(), 8u);
  EXPECT_EQ(sums.rejected(), 3u);
}

// A reference parent has no report_metrics: the worker asks once, then
// keeps its metrics to itself.
TEST(MetricsReporterTest, StopsAfterAReferenceParentRefuses) {
  const ipc::Secret secret = testing::TestSecret();
  auto server = rpc::Server::Create(&secret);
  ASSERT_TRUE(server.ok());
  // A parent with the reference's methods only (here: ping).
  (*server)->RegisterHandler("ping",
                             [](rpc::ServerCall&) { return absl::OkStatus(); });
  ASSERT_TRUE((*server)->Start().ok());
  rpc::ChannelOptions options;
  options.connector.port = (*server)->port();
  auto channel = rpc::Channel::Create(&secret, options);
  ASSERT_TRUE(channel.ok());
  ASSERT_TRUE((*channel)->Call("ping", "[]", "{}").ok());
  MetricsReporter reporter;
  agent::WorkerAgent::Stub stub(channel->get());
  EXPECT_TRUE(reporter.Report({channel->get()}, stub, absl::Seconds(5)).ok());
  EXPECT_TRUE(reporter.refused());
  ASSERT_TRUE((*channel)->Call("ping", "[]", "{}").ok());
  EXPECT_TRUE(reporter.Report({channel->get()}, stub, absl::Seconds(5)).ok());
  const rpc::MetricsSnapshot client = (*channel)->method_metrics();
  EXPECT_EQ(client.at("report_metrics").calls(), 1u);
  EXPECT_EQ(client.at("report_metrics")
                .codes[static_cast<int>(absl::StatusCode::kUnimplemented)],
            1u);
}

// Deltas: each report carries only what is new, so the parent's sums are
// the worker's totals however often it reports.
TEST(MetricsReporterTest, ReportsDeltasToAnAgentServer) {
  const ipc::Secret secret = testing::TestSecret();
  auto server = AgentServer::Create(&secret);
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE((*server)->Start().ok());
  rpc::ChannelOptions options;
  options.connector.port = (*server)->port();
  auto channel = rpc::Channel::Create(&secret, options);
  ASSERT_TRUE(channel.ok());
  agent::WorkerAgent::Stub stub(channel->get());
  MetricsReporter reporter;
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(stub.Ping(agent::PingRequest()).ok());
    ASSERT_TRUE(stub.Ping(agent::PingRequest()).ok());
    ASSERT_TRUE(reporter.Report({channel->get()}, stub, absl::Seconds(5)).ok());
  }
  EXPECT_FALSE(reporter.refused());
  // Nothing new but the last report: nothing sent.
  ASSERT_TRUE(reporter.Report({channel->get()}, stub, absl::Seconds(5)).ok());
  EXPECT_EQ((*channel)->method_metrics().at("report_metrics").calls(), 3u);
  const rpc::MetricsSnapshot sums = (*server)->worker_metrics().Sum();
  EXPECT_EQ(sums.at("ping").calls(), 6u);
  // The first two reports, counted by the next ones.
  EXPECT_EQ(sums.at("report_metrics").calls(), 2u);
  std::string text;
  (*server)->WriteMetrics(&text);
  absl::StatusOr<testing::Exposition> parsed = testing::ParseExposition(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
  EXPECT_EQ(parsed->Value("zen_agent_worker_calls_total", {{"method", "ping"}}),
            6);
  EXPECT_EQ(parsed->Value("zen_agent_server_calls_total", {{"method", "ping"}}),
            6);
}

}  // namespace
}  // namespace zen
