#include "examples/stats_report.h"

#include "gtest/gtest.h"

namespace zen::examples {
namespace {

CollectorStats Period(uint64_t requests, uint64_t rate_limited,
                      absl::Duration length) {
  CollectorStats stats;
  stats.started_at = absl::FromUnixSeconds(1700000000);
  stats.ended_at = stats.started_at + length;
  stats.requests = requests;
  stats.rate_limited_requests = rate_limited;
  return stats;
}

CollectorStats::Route Route(std::string method, std::string path,
                            uint64_t hits) {
  CollectorStats::Route route;
  route.method = std::move(method);
  route.path = std::move(path);
  route.hits = hits;
  return route;
}

TEST(RunTotalsTest, SumsPeriods) {
  RunTotals totals;
  CollectorStats first = Period(10, 2, absl::Seconds(1));
  first.routes.push_back(Route("GET", "/a", 8));
  first.user_agents.push_back({"curl", 3});
  CollectorStats second = Period(5, 1, absl::Seconds(1));
  second.routes.push_back(Route("GET", "/a", 4));
  second.routes.push_back(Route("POST", "/b", 1));
  second.ip_lists.push_back({"tor", 2});
  second.invalid_events = 1;
  totals.Add(first);
  totals.Add(second);
  EXPECT_EQ(totals.periods, 2u);
  EXPECT_EQ(totals.requests, 15u);
  EXPECT_EQ(totals.rate_limited_requests, 3u);
  EXPECT_EQ(totals.invalid_events, 1u);
  EXPECT_EQ(totals.route_hits.at("GET /a"), 12u);
  EXPECT_EQ(totals.route_hits.at("POST /b"), 1u);
  EXPECT_EQ(totals.user_agent_hits.at("curl"), 3u);
  EXPECT_EQ(totals.ip_list_hits.at("tor"), 2u);
}

TEST(FormatPeriodTest, NamesRatesAndBusiestRoutes) {
  CollectorStats period = Period(300, 7, absl::Seconds(2));
  period.routes.push_back(Route("GET", "/quiet", 1));
  period.routes.push_back(Route("GET", "/busy", 200));
  period.routes.push_back(Route("GET", "/middle", 50));
  period.routes.push_back(Route("POST", "/middle", 50));
  RunTotals totals;
  totals.Add(Period(1000, 20, absl::Seconds(1)));
  totals.Add(period);
  EXPECT_EQ(FormatPeriod(period, totals),
            "stats: 2.0s: 300 requests (150.0/s), 7 rate-limited; routes: "
            "GET /busy 200, GET /middle 50, POST /middle 50 | run: 1300 "
            "requests, 27 rate-limited");
}

TEST(FormatPeriodTest, EmptyPeriod) {
  CollectorStats period = Period(0, 0, absl::ZeroDuration());
  RunTotals totals;
  totals.Add(period);
  EXPECT_EQ(FormatPeriod(period, totals),
            "stats: 0.0s: 0 requests (0.0/s), 0 rate-limited; routes: none | "
            "run: 0 requests, 0 rate-limited");
}

}  // namespace
}  // namespace zen::examples
