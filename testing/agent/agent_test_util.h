// Helpers shared by the tests that run an Agent across real processes.
#ifndef ZEN_TESTING_AGENT_AGENT_TEST_UTIL_H_
#define ZEN_TESTING_AGENT_AGENT_TEST_UTIL_H_

#include <cstddef>
#include <vector>

#include "absl/time/time.h"
#include "agent/agent.h"
#include "base/clock.h"
#include "testing/deadline.h"
#include "testing/forked_child.h"

namespace zen::testing {

// Agent options with short polling, flush and reconnect periods, so that
// tests see settings and events move within a fraction of a second.
AgentOptions FastAgentOptions();

// Eventually(done): testing/deadline.h.

// Reads exactly `size` bytes from a pipe into `out`, or gives up (false)
// after `limit` (a child that failed early never writes).
bool ReadWithin(int fd, void* out, size_t size, absl::Duration limit);

// Waits up to 60 s for each child and expects each to have succeeded.
void WaitAll(std::vector<ForkedChild>& children);

}  // namespace zen::testing

#endif  // ZEN_TESTING_AGENT_AGENT_TEST_UTIL_H_
