// What a worker reports about itself at GET /_zen/status, and its JSON form.
//
// A pre-fork server's workers share one listening socket, so a status
// request reaches whichever worker accepts it; the self-test asks until it
// has heard from every worker.
#ifndef ZEN_EXAMPLES_WORKER_STATUS_H_
#define ZEN_EXAMPLES_WORKER_STATUS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "examples/latency_histogram.h"

namespace zen::examples {

struct WorkerStatus {
  int64_t pid = 0;

  // Application requests answered (status requests are not counted), by
  // outcome. requests == allowed + blocked + rate_limited, and each one
  // recorded one track_request event.
  uint64_t requests = 0;
  uint64_t allowed = 0;       // 200
  uint64_t blocked = 0;       // 403: firewall lists, endpoint allow list, user
  uint64_t rate_limited = 0;  // 429
  // Answered without protection because the parent was unreachable.
  uint64_t unprotected = 0;

  // The settings this worker applied: the parent's generation numbers (-1:
  // none yet) and when this worker applied each document, in microseconds
  // since the Unix epoch (0: never).
  int64_t config_generation = -1;
  int64_t firewall_lists_generation = -1;
  int64_t config_applied_at_us = 0;
  int64_t firewall_lists_applied_at_us = 0;

  // The worker's agent client.
  bool agent_connected = false;
  uint64_t events_recorded = 0;
  uint64_t events_sent = 0;
  uint64_t events_dropped = 0;
  uint64_t flush_failures = 0;
  uint64_t settings_polls = 0;
  // Rate-limit questions the worker's local limiter had to answer because
  // the parent did not answer in time.
  uint64_t rate_limit_fallbacks = 0;
  // Rate-limit questions decided in the shared zone, and those the zone
  // could not decide that went to the parent (AgentClientStats).
  uint64_t rate_limits_from_zone = 0;
  uint64_t rate_limits_zone_deferred = 0;

  // CalculateRateLimits calls as the request path sees them: those the
  // parent answered (a round trip), and those decided in the zone.
  LatencyHistogram rate_limit_latency;
  LatencyHistogram zone_latency;
};

// One JSON object with the fields above (each histogram as count, p50_us,
// p99_us, max_us and its non-empty buckets).
std::string WorkerStatusToJson(const WorkerStatus& status);

// Reads what WorkerStatusToJson wrote. kInvalidArgument, naming the field,
// for malformed JSON or a missing or mistyped field. The histograms are
// rebuilt from their buckets (see LatencyHistogram::AddToBucket).
absl::StatusOr<WorkerStatus> ParseWorkerStatus(absl::string_view json);

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_WORKER_STATUS_H_
