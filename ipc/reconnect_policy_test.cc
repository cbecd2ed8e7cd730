#include "gtest/gtest.h"
#include "ipc/connector.h"

namespace zen::ipc {
namespace {

TEST(ReconnectPolicyTest, FirstRetryAtOnceThenTheReferenceDelay) {
  ReconnectPolicy policy;
  EXPECT_EQ(policy.NextDelay(), absl::ZeroDuration());
  EXPECT_EQ(policy.NextDelay(), absl::Seconds(1));
  EXPECT_EQ(policy.NextDelay(), absl::Seconds(1));
  policy.Reset();
  EXPECT_EQ(policy.NextDelay(), absl::ZeroDuration());
}

TEST(ReconnectPolicyTest, BacksOffExponentiallyUpToTheCap) {
  ReconnectPolicy::Options options;
  options.initial_delay = absl::Milliseconds(100);
  options.multiplier = 2.0;
  options.max_delay = absl::Milliseconds(500);
  ReconnectPolicy policy(options);
  EXPECT_EQ(policy.NextDelay(), absl::ZeroDuration());
  EXPECT_EQ(policy.NextDelay(), absl::Milliseconds(100));
  EXPECT_EQ(policy.NextDelay(), absl::Milliseconds(200));
  EXPECT_EQ(policy.NextDelay(), absl::Milliseconds(400));
  EXPECT_EQ(policy.NextDelay(), absl::Milliseconds(500));
  EXPECT_EQ(policy.NextDelay(), absl::Milliseconds(500));
}

TEST(ReconnectPolicyTest, JitterStaysWithinItsBand) {
  ReconnectPolicy::Options options;
  options.initial_delay = absl::Seconds(1);
  options.jitter = 0.2;
  ReconnectPolicy policy(options);
  policy.NextDelay();
  for (int i = 0; i < 100; ++i) {
    const absl::Duration d = policy.NextDelay();
    EXPECT_GE(d, absl::Milliseconds(800));
    EXPECT_LE(d, absl::Milliseconds(1200));
  }
}

}  // namespace
}  // namespace zen::ipc
