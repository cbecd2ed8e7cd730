// The heartbeat document the parent sends to the API: what the reference
// (aikido-zen 1.8.0) builds in Collector#flush and writes with
// Events::Heartbeat#as_json (lib/aikido/zen/event.rb), from one statistics
// period of a zen::Collector. docs/protocol.md ("Heartbeat document") lists
// its keys, types and units and where it differs from the reference.
#ifndef ZEN_AGENT_MODEL_HEARTBEAT_H_
#define ZEN_AGENT_MODEL_HEARTBEAT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/model/collector.h"

namespace zen {

// The default byte budget of a heartbeat document (HeartbeatOptions::
// max_bytes). A real application's heartbeat takes a few KiB; the budget
// bounds what a flood of distinct names from a worker can make the parent
// build and send.
inline constexpr size_t kDefaultHeartbeatMaxBytes = size_t{4} << 20;

struct HeartbeatOptions {
  // The document's "time". The reference stamps the event when it builds
  // it, right after the flush; unset means `stats.ended_at`.
  std::optional<absl::Time> time;
  // The reference's "agent" block (its system information: library and
  // platform versions, hostname, ...) as one JSON object, written into the
  // document as given. It is the host's to build; when empty the key is
  // left out.
  std::string agent_json;
  // The document is at most this many bytes. After the agent block and the
  // fixed members (kHeartbeatFixedBytes), what is left is shared among the
  // lists in 32nds: operations 8, userAgents 1, ipAddresses 1, users 4,
  // routes (with their apispec) 14, hostnames 4. An entry that does not fit
  // what is left of its list's share is left out whole, and counted
  // (HeartbeatJson's `entries_left_out`); later, smaller ones may still fit.
  size_t max_bytes = kDefaultHeartbeatMaxBytes;
};

// What a document holds besides the agent block and the lists' entries
// ("type", "time", "stats" with its periods and request totals, the lists'
// keys and brackets, "middlewareInstalled"): well under this.
inline constexpr size_t kHeartbeatFixedBytes = 1024;

// Returns the heartbeat document for `stats` (a Collector::Flush result, or
// a Snapshot) as compact JSON text:
//
//   {"type":"heartbeat","time":...,["agent":{...},]"stats":{...},
//    "users":[...],"routes":[...],"hostnames":[...],
//    "middlewareInstalled":...}
//
// Times are ms since the Unix epoch truncated to whole seconds and scan
// timings are ms, as the reference writes them. At most `options.max_bytes`
// long; entries left out for that are added to `*entries_left_out` when it
// is not null. Returns kInvalidArgument when `options.agent_json` is not
// empty and not one JSON object. Reads `stats` only; the caller owns
// everything. Thread-safe (no shared state).
absl::StatusOr<std::string> HeartbeatJson(
    const CollectorStats& stats,
    const HeartbeatOptions& options = HeartbeatOptions(),
    uint64_t* entries_left_out = nullptr);

}  // namespace zen

#endif  // ZEN_AGENT_MODEL_HEARTBEAT_H_
