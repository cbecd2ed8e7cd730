#include "agent/model/collector_event.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace zen {
namespace {

TEST(CollectorEventTest, NamesRoundTripForAllTenTypes) {
  const CollectorEventType types[] = {
      CollectorEventType::kRequest,    CollectorEventType::kRateLimitedRequest,
      CollectorEventType::kUserAgent,  CollectorEventType::kIpList,
      CollectorEventType::kAttackWave, CollectorEventType::kScan,
      CollectorEventType::kAttack,     CollectorEventType::kUser,
      CollectorEventType::kOutbound,   CollectorEventType::kRoute,
  };
  std::set<std::string> names;
  for (CollectorEventType type : types) {
    const absl::string_view name = CollectorEventTypeName(type);
    names.insert(std::string(name));
    EXPECT_EQ(CollectorEventTypeFromName(name), type) << name;
  }
  EXPECT_EQ(names.size(), 10u);
}

TEST(CollectorEventTest, UsesTheReferenceWireNames) {
  EXPECT_EQ(CollectorEventTypeName(CollectorEventType::kRateLimitedRequest),
            "track_rate_limited_request");
  EXPECT_EQ(CollectorEventTypeFromName("track_attack_wave"),
            CollectorEventType::kAttackWave);
}

TEST(CollectorEventTest, UnknownNamesAreRejected) {
  EXPECT_FALSE(CollectorEventTypeFromName("track_everything").has_value());
  EXPECT_FALSE(CollectorEventTypeFromName("").has_value());
  EXPECT_FALSE(CollectorEventTypeFromName("TRACK_REQUEST").has_value());
}

}  // namespace
}  // namespace zen
