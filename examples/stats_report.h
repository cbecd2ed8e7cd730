// The parent's statistics over a whole run, built from the Collector's
// periods, and the line it prints for each period.
#ifndef ZEN_EXAMPLES_STATS_REPORT_H_
#define ZEN_EXAMPLES_STATS_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "agent/model/collector.h"

namespace zen::examples {

// Sums of every period added so far. A real agent would send each period to
// its API at the heartbeat and forget it; the example keeps totals so the
// self-test can compare them with what the workers served. A value type; not
// thread-safe.
struct RunTotals {
  uint64_t periods = 0;
  uint64_t requests = 0;
  uint64_t rate_limited_requests = 0;
  uint64_t attack_waves = 0;  // track_attack_wave events folded
  uint64_t invalid_events = 0;
  // "METHOD /path" -> hits. Collections are capped per period (see
  // CollectorOptions); what a period dropped is not here.
  std::map<std::string, uint64_t> route_hits;
  std::map<std::string, uint64_t> user_agent_hits;  // userAgentDetails key
  std::map<std::string, uint64_t> ip_list_hits;     // monitored list key

  void Add(const CollectorStats& period);
};

// One line for a period that was just added to `totals`, e.g.
//   stats: 1.0s: 1520 requests (1520.0/s), 7 rate-limited; routes: GET
//   /api/hello 900, GET /api/search 600, GET /api/limited 20 | run: 4000
//   requests, 12 rate-limited
// (on one line). Routes are the period's `max_routes` busiest, busiest
// first; "routes: none" when the period saw none.
std::string FormatPeriod(const CollectorStats& period, const RunTotals& totals,
                         size_t max_routes = 3);

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_STATS_REPORT_H_
