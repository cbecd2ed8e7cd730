#include "examples/stats_report.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace zen::examples {

void RunTotals::Add(const CollectorStats& period) {
  ++periods;
  requests += period.requests;
  rate_limited_requests += period.rate_limited_requests;
  attack_waves += period.attack_waves_detected;
  invalid_events += period.invalid_events;
  for (const CollectorStats::Route& route : period.routes) {
    route_hits[absl::StrCat(route.method, " ", route.path)] += route.hits;
  }
  for (const CollectorStats::KeyCount& agent : period.user_agents) {
    user_agent_hits[agent.key] += agent.count;
  }
  for (const CollectorStats::KeyCount& list : period.ip_lists) {
    ip_list_hits[list.key] += list.count;
  }
}

std::string FormatPeriod(const CollectorStats& period, const RunTotals& totals,
                         size_t max_routes) {
  const double seconds =
      std::max(0.0, absl::ToDoubleSeconds(period.ended_at - period.started_at));
  const double rate =
      seconds > 0 ? static_cast<double>(period.requests) / seconds : 0.0;

  std::vector<const CollectorStats::Route*> routes;
  for (const CollectorStats::Route& route : period.routes) {
    routes.push_back(&route);
  }
  // Busiest first; ties by name so the line is stable.
  std::sort(routes.begin(), routes.end(), [](const auto* a, const auto* b) {
    if (a->hits != b->hits) return a->hits > b->hits;
    if (a->path != b->path) return a->path < b->path;
    return a->method < b->method;
  });
  if (routes.size() > max_routes) routes.resize(max_routes);
  std::string route_text =
      routes.empty()
          ? "none"
          : absl::StrJoin(routes, ", ",
                          [](std::string* out, const auto* route) {
                            absl::StrAppend(out, route->method, " ",
                                            route->path, " ", route->hits);
                          });

  return absl::StrFormat(
      "stats: %.1fs: %d requests (%.1f/s), %d rate-limited; routes: %s | "
      "run: %d requests, %d rate-limited",
      seconds, period.requests, rate, period.rate_limited_requests, route_text,
      totals.requests, totals.rate_limited_requests);
}

}  // namespace zen::examples
