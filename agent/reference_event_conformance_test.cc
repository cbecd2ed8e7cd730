// Conformance with the reference Ruby agent (aikido-zen 1.8.0), event type
// by event type, both ways (docs/protocol.md): the reference's
// Event#as_json decodes to the right CollectorEvent, units included, and
// encodes back to JSON its from_json reads to the same values. The methods
// are in reference_conformance_test.cc.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "agent/event_conversion.h"
#include "agent/model/collector_event.h"
#include "gtest/gtest.h"
#include "testing/agent/reference_events.h"
#include "testing/same_json.h"

namespace zen {
namespace {

using ::zen::testing::EventCase;
using ::zen::testing::ReferenceEvents;
using ::zen::testing::SameJson;

TEST(ReferenceConformanceTest, EveryEventTypeDecodesAndEncodesBack) {
  for (const EventCase& c : ReferenceEvents()) {
    SCOPED_TRACE(c.json);
    absl::StatusOr<DecodedEvents> decoded =
        DecodeEventsJson(absl::StrCat("[", c.json, "]"));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    ASSERT_EQ(decoded->events.size(), 1u);
    EXPECT_EQ(decoded->undecodable + decoded->unknown_type, 0u);
    c.check(decoded->events[0]);
    std::string encoded;
    ASSERT_TRUE(EncodeEventsJson(decoded->events, &encoded).ok());
    EXPECT_TRUE(SameJson(encoded, absl::StrCat("[", c.json, "]")));
  }
}

TEST(ReferenceConformanceTest, KeysTheReferenceReadsUncheckedAreAlwaysSent) {
  // Built by a host that set nothing but the type: the reference parent
  // would call nil.each, nil / 1000 or nil.empty? on a missing key.
  std::vector<CollectorEvent> events(4);
  events[0].type = CollectorEventType::kScan;
  events[1].type = CollectorEventType::kAttack;
  events[2].type = CollectorEventType::kUser;
  events[2].user_id = "u";
  events[2].timestamp_ms = 1700000000000;
  events[3].type = CollectorEventType::kRoute;
  std::string encoded;
  ASSERT_TRUE(EncodeEventsJson(events, &encoded).ok());
  EXPECT_TRUE(SameJson(
      encoded,
      R"([{"type":"track_scan","sink_name":"","sink_kind":"","duration":0,)"
      R"("has_errors":false},)"
      R"({"type":"track_attack","sink_name":"","sink_kind":"",)"
      R"("being_blocked":false},)"
      R"({"type":"track_user","timestamp_ms":1700000000000,"actor":{"id":"u",)"
      R"("firstSeenAt":1700000000000,"lastSeenAt":1700000000000}},)"
      R"({"type":"track_route","route":{"method":"","path":""},"schema":{}}])"))
      << encoded;
}

TEST(ReferenceConformanceTest, OneUnreadableEventCostsOnlyItself) {
  absl::StatusOr<DecodedEvents> decoded = DecodeEventsJson(
      R"([{"type":"track_request"},)"
      R"({"type":"track_user","actor":{"id":"u","firstSeenAt":"soon"}},)"
      R"({"type":"track_teleport"},7,{"type":"track_request"}])");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->events.size(), 2u);
  EXPECT_EQ(decoded->undecodable, 2u);
  EXPECT_EQ(decoded->unknown_type, 1u);
  EXPECT_FALSE(DecodeEventsJson(R"({"type":"track_request"})").ok());
}

}  // namespace
}  // namespace zen
