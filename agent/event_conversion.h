// Conversion between the wire's CollectorEvent message and the Collector's
// plain struct, in both directions (the child sends what the parent folds).
#ifndef ZEN_AGENT_EVENT_CONVERSION_H_
#define ZEN_AGENT_EVENT_CONVERSION_H_

#include <optional>

#include "agent/collector_event.h"
#include "proto/zen/agent/worker_agent.pb.h"

namespace zen {

// nullopt when the message's `type` is not one of the ten known types.
std::optional<CollectorEvent> EventFromProto(const agent::CollectorEvent& in);

void EventToProto(const CollectorEvent& in, agent::CollectorEvent* out);

}  // namespace zen

#endif  // ZEN_AGENT_EVENT_CONVERSION_H_
