// One statistics event collected in a worker and folded into the parent's
// Collector. A plain struct, independent of protobuf and JSON: the RPC layer
// converts `send_collector_events` messages into it (docs/protocol.md,
// "Collector events", lists the wire shapes).
#ifndef ZEN_AGENT_MODEL_COLLECTOR_EVENT_H_
#define ZEN_AGENT_MODEL_COLLECTOR_EVENT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace zen {

// The reference's ten event types; the comment gives each one's wire name.
enum class CollectorEventType {
  kRequest,             // track_request
  kRateLimitedRequest,  // track_rate_limited_request
  kUserAgent,           // track_user_agent
  kIpList,              // track_ip_list
  kAttackWave,          // track_attack_wave
  kScan,                // track_scan
  kAttack,              // track_attack
  kUser,                // track_user
  kOutbound,            // track_outbound
  kRoute,               // track_route
};

// The wire name, e.g. "track_request".
absl::string_view CollectorEventTypeName(CollectorEventType type);
// The type for a wire name; nullopt for names this version does not know.
std::optional<CollectorEventType> CollectorEventTypeFromName(
    absl::string_view name);

// Fields not used by an event's type are ignored. An event whose required
// field is empty (a route without method or path, a user without id, an
// outbound connection without hostname) is counted as invalid and otherwise
// ignored.
struct CollectorEvent {
  CollectorEventType type = CollectorEventType::kRequest;

  // When the worker saw the event, in ms since the Unix epoch; 0 if unknown.
  // Routes and hosts report the latest as their last sighting; users use it
  // when the event carries no first/last-seen times of its own.
  int64_t timestamp_ms = 0;

  // kRoute: the route as the framework names it (e.g. "/users/:id").
  std::string method;
  std::string path;
  // kRoute: the request's shape, the reference's Request::Schema#as_json
  // (one JSON object: "body", "query", "auth"); empty when none was given.
  // Forwarded as text; the Collector parses it (ApiSchema::FromJson) for
  // the route's first api_schema_max_samples hits of a period and counts
  // what it rejects.
  std::string schema_json;

  // kScan and kAttack: the sink (library) scanned or attacked, e.g. "pg",
  // and its kind, the category of operation it wraps, e.g. "sql_op" (the
  // reference's `sink_kind`; heartbeats report it per operation).
  std::string sink_name;
  std::string sink_kind;
  // kAttack: the kind of attack, e.g. "sql_injection"; may be empty.
  std::string attack_kind;
  // kAttack and kAttackWave: the request was blocked (the reference's
  // `being_blocked`), not only detected.
  bool blocked = false;
  // kScan: how long the scan took and whether it failed.
  absl::Duration duration = absl::ZeroDuration();
  bool has_errors = false;

  // kUser: the reference's actor.
  std::string user_id;
  std::string user_name;
  std::string ip_address;
  int64_t first_seen_ms = 0;  // 0: use timestamp_ms
  int64_t last_seen_ms = 0;   // 0: use timestamp_ms

  // kOutbound: the host a worker connected to. Each event is one sighting
  // (the reference counts hits in the parent; a worker sends none).
  std::string hostname;
  int port = 0;

  // kUserAgent: the matched userAgentDetails keys; kIpList: the matched
  // monitored IP list keys. Empty keys are ignored.
  std::vector<std::string> keys;
};

// The most bytes the collector keeps of each text an event carries. A
// longer key (route path, user id, hostname, sink name, attack kind,
// user-agent or IP-list key) becomes BoundedText: its start, '~' and a
// digest of the whole, so it still names one entry. A longer plain value
// (method, user name, IP address, sink kind) is cut at a UTF-8 boundary.
// Real names are far shorter: a route pattern, a DNS name (at most 253
// bytes), a library name.
//
// The Collector keeps no more of any event; BoundCollectorEventTexts gives
// an event these bounds as soon as it is decoded, so that a batch of events
// does not hold its long texts in full on the way.
struct CollectorTextBounds {
  static constexpr size_t kMethod = 32;
  static constexpr size_t kRoutePath = 512;
  static constexpr size_t kUserId = 128;
  static constexpr size_t kUserName = 256;
  static constexpr size_t kIpAddress = 64;
  static constexpr size_t kHostname = 256;
  static constexpr size_t kSinkName = 128;
  static constexpr size_t kKind = 64;      // sink kind, attack kind
  static constexpr size_t kListKey = 128;  // user-agent and IP-list keys
};

// Cuts every text of `event` to its CollectorTextBounds size, as the
// Collector keeps it (a text within its bound is left as it is).
void BoundCollectorEventTexts(CollectorEvent* event);

}  // namespace zen

#endif  // ZEN_AGENT_MODEL_COLLECTOR_EVENT_H_
