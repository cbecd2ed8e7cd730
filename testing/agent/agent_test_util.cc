#include "testing/agent/agent_test_util.h"

#include <poll.h>
#include <unistd.h>

#include <cstdint>

#include "gtest/gtest.h"

namespace zen::testing {

AgentOptions FastAgentOptions() {
  AgentOptions options;
  options.client.polling_interval = absl::Milliseconds(100);
  options.client.polling_jitter = absl::ZeroDuration();
  options.client.flush_interval = absl::Milliseconds(100);
  options.client.reconnect_delay = absl::Milliseconds(50);
  return options;
}

bool ReadWithin(int fd, void* out, size_t size, absl::Duration limit) {
  const absl::Time deadline = In(limit);
  size_t done = 0;
  while (done < size) {
    pollfd p{fd, POLLIN, 0};
    const int64_t ms = absl::ToInt64Milliseconds(deadline - zen::Now());
    if (ms <= 0 || ::poll(&p, 1, static_cast<int>(ms)) <= 0) return false;
    const ssize_t n = ::read(fd, static_cast<char*>(out) + done, size - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void WaitAll(std::vector<ForkedChild>& children) {
  for (auto& child : children) {
    ChildOutcome outcome = child.Wait(In(absl::Seconds(60)));
    EXPECT_TRUE(outcome.ok()) << outcome.ToString();
  }
}

}  // namespace zen::testing
