// The reference agent's collector events as its Event#as_json writes them,
// each with what it must decode to: fixtures for the conformance tests.
#ifndef ZEN_TESTING_AGENT_REFERENCE_EVENTS_H_
#define ZEN_TESTING_AGENT_REFERENCE_EVENTS_H_

#include <string>
#include <vector>

#include "agent/model/collector_event.h"

namespace zen::testing {

// One reference event and the checks (gtest expectations) of its decoding.
struct EventCase {
  std::string json;  // The reference's Event#as_json.
  void (*check)(const CollectorEvent& event);
};

// Every event type the reference sends, one case each.
std::vector<EventCase> ReferenceEvents();

}  // namespace zen::testing

#endif  // ZEN_TESTING_AGENT_REFERENCE_EVENTS_H_
