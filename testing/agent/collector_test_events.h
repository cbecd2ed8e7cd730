// Builders of CollectorEvents for the collector's and the heartbeat's
// tests: one event of each kind, the fields a test varies as arguments.
#ifndef ZEN_TESTING_AGENT_COLLECTOR_TEST_EVENTS_H_
#define ZEN_TESTING_AGENT_COLLECTOR_TEST_EVENTS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "agent/model/collector_event.h"

namespace zen::testing {

inline CollectorEvent Event(CollectorEventType type) {
  CollectorEvent event;
  event.type = type;
  return event;
}

inline CollectorEvent Keys(CollectorEventType type,
                           std::vector<std::string> keys) {
  CollectorEvent event = Event(type);
  event.keys = std::move(keys);
  return event;
}

inline CollectorEvent Wave(bool blocked) {
  CollectorEvent event = Event(CollectorEventType::kAttackWave);
  event.blocked = blocked;
  return event;
}

inline CollectorEvent Scan(const std::string& sink, const std::string& kind,
                           double seconds, bool has_errors = false) {
  CollectorEvent event = Event(CollectorEventType::kScan);
  event.sink_name = sink;
  event.sink_kind = kind;
  event.duration = absl::Seconds(seconds);
  event.has_errors = has_errors;
  return event;
}

// `kind` is both the sink's kind and the attack's.
inline CollectorEvent Attack(const std::string& sink, const std::string& kind,
                             bool blocked) {
  CollectorEvent event = Event(CollectorEventType::kAttack);
  event.sink_name = sink;
  event.sink_kind = kind;
  event.attack_kind = kind;
  event.blocked = blocked;
  return event;
}

inline CollectorEvent User(const std::string& id, const std::string& name,
                           const std::string& ip, int64_t first_seen_ms,
                           int64_t last_seen_ms) {
  CollectorEvent event = Event(CollectorEventType::kUser);
  event.user_id = id;
  event.user_name = name;
  event.ip_address = ip;
  event.first_seen_ms = first_seen_ms;
  event.last_seen_ms = last_seen_ms;
  return event;
}

inline CollectorEvent Outbound(const std::string& hostname, int port) {
  CollectorEvent event = Event(CollectorEventType::kOutbound);
  event.hostname = hostname;
  event.port = port;
  return event;
}

}  // namespace zen::testing

#endif  // ZEN_TESTING_AGENT_COLLECTOR_TEST_EVENTS_H_
