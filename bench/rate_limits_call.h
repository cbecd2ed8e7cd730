// The agent's hot call measured like the echo: calculate_rate_limits from a
// fork()ed child's generated WorkerAgent::Stub to a real zen::AgentServer
// with a rate-limited route, over loopback TCP (echo_compare
// --system=zen_rate_limits, or zen_rate_limits_wildcard for a route that
// only a wildcard endpoint matches).
#ifndef ZEN_BENCH_RATE_LIMITS_CALL_H_
#define ZEN_BENCH_RATE_LIMITS_CALL_H_

#include "bench/bench_util.h"

namespace zen::bench {

// Runs the sequential part (`warmup`, then `calls` timed calls) and, if
// `threads` > 0, `mt_calls` calls from `threads` threads on one channel; the
// client on ClientCpu(placement). Each call counts one request of one of
// 1,000 client IPs against a limit it never reaches: the admitted path.
// `wildcard`: the config has 21 endpoints and the route matches only the
// last one tried, `* /api/wild/*`; else one endpoint, `POST /login`, which
// the route equals. Returns 0 on success.
int RunRateLimitsCall(Placement placement, int warmup, int calls, int threads,
                      int mt_calls, bool wildcard, EchoFigures* out);

}  // namespace zen::bench

#endif  // ZEN_BENCH_RATE_LIMITS_CALL_H_
