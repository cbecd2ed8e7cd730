// What a worker does with each application request before the application
// sees it: the checks a host program's middleware makes through the agent.
#ifndef ZEN_EXAMPLES_REQUEST_GUARD_H_
#define ZEN_EXAMPLES_REQUEST_GUARD_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "agent/agent_client.h"
#include "examples/worker_metrics.h"

namespace zen::examples {

// The parts of a request the checks look at.
struct RequestFacts {
  std::string method;
  std::string path;  // The route, as configured endpoints name it.
  std::string client_ip;
  std::string user_agent;
  // The signed-in user, if the application knows one.
  std::optional<std::string> user_id;
};

struct Verdict {
  // 200 (let the application answer), 403 or 429.
  int http_status = 200;
  // Why not 200, for the response body: "ip_blocked", "ip_not_allowed",
  // "user_agent_blocked", "user_blocked", "rate_limited".
  absl::string_view reason;
  // For 429: seconds until the client may succeed again (at least 1).
  int64_t retry_after_seconds = 0;
};

// Checks one request against the settings this worker last received from
// the parent and, for rate-limited endpoints, asks the parent's shared rate
// limiter; reports a scanner's probe (IsScanProbe) to the parent's
// attack-wave detector; records the request's events in the client for the
// parent's statistics (a detected wave as `track_attack_wave`), and counts it
// in `metrics`.
//
// In order: an address in the config's allowedIPAddresses bypasses every
// check; then the firewall lists' allowed lists (when there are any) and
// blocked lists, the blocked user agents, the endpoint's own allow list and
// the blocked users answer 403; then a rate-limited endpoint answers 429
// when the parent says so. Only endpoints that the worker's settings say are
// rate limited cost a round trip to the parent.
//
// `client` may be null (the parent is unreachable): the request is then
// allowed unprotected, and only counted in `metrics`. Thread-safe; `metrics`
// must outlive the call.
Verdict CheckRequest(AgentClient* client, const RequestFacts& facts,
                     WorkerMetrics* metrics);

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_REQUEST_GUARD_H_
