// The heartbeat document the parent sends to the API: what the reference
// (aikido-zen 1.8.0) builds in Collector#flush and writes with
// Events::Heartbeat#as_json (lib/aikido/zen/event.rb), from one statistics
// period of a zen::Collector. docs/protocol.md ("Heartbeat document") lists
// its keys, types and units and where it differs from the reference.
#ifndef ZEN_AGENT_HEARTBEAT_H_
#define ZEN_AGENT_HEARTBEAT_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/collector.h"

namespace zen {

struct HeartbeatOptions {
  // The document's "time". The reference stamps the event when it builds
  // it, right after the flush; unset means `stats.ended_at`.
  std::optional<absl::Time> time;
  // The reference's "agent" block (its system information: library and
  // platform versions, hostname, ...) as one JSON object, written into the
  // document as given. It is the host's to build; when empty the key is
  // left out.
  std::string agent_json;
};

// Returns the heartbeat document for `stats` (a Collector::Flush result, or
// a Snapshot) as compact JSON text:
//
//   {"type":"heartbeat","time":...,["agent":{...},]"stats":{...},
//    "users":[...],"routes":[...],"hostnames":[...],
//    "middlewareInstalled":...}
//
// Times are ms since the Unix epoch truncated to whole seconds and scan
// timings are ms, as the reference writes them. Returns kInvalidArgument
// when `options.agent_json` is not empty and not one JSON object. Reads
// `stats` only; the caller owns everything. Thread-safe (no shared state).
absl::StatusOr<std::string> HeartbeatJson(
    const CollectorStats& stats,
    const HeartbeatOptions& options = HeartbeatOptions());

}  // namespace zen

#endif  // ZEN_AGENT_HEARTBEAT_H_
