// The options of the parent's AgentServer and of its parts, in a header of
// their own: a host or a test that configures a server includes this (and
// agent_server.h, which includes it) without the generated WorkerAgent
// messages and the RPC service's headers, which only the server's own
// sources need.
#ifndef ZEN_AGENT_SERVER_OPTIONS_H_
#define ZEN_AGENT_SERVER_OPTIONS_H_

#include <cstddef>

#include "agent/model/attack_wave_detector.h"
#include "agent/model/collector.h"
#include "agent/model/rate_limiter.h"
#include "rpc/server.h"

namespace zen {

// Bounds on parked watch_settings calls (agent/settings_watchers.h).
struct SettingsWatchOptions {
  // Calls one connection may have parked at once; more are answered
  // RESOURCE_EXHAUSTED (the worker polls instead until a watch parks).
  size_t max_per_connection = 4;
  // Calls parked at once, server-wide; more are answered as above. Sized
  // so that every connection can park max_per_connection: AgentServer makes
  // it max_per_connection times its listener's max_connections (4 x 1024 by
  // default, about 1 KiB each).
  size_t max_waiting = 4 * 1024;
};

// Bounds on what workers' report_metrics calls make the parent keep
// (agent/call_metrics.h).
struct WorkerMetricsOptions {
  // Method series kept; reports of more methods count under
  // WorkerMetrics::kOtherMethod.
  size_t max_methods = 256;
};

struct AgentServerOptions {
  // Address (127.0.0.1, ephemeral port by default), limits, idle timeout.
  rpc::ServerOptions server;
  CollectorOptions collector;
  RateLimiterOptions rate_limiter;
  AttackWaveOptions attack_wave;
  // Bounds what workers' report_metrics calls can make the parent keep.
  WorkerMetricsOptions worker_metrics;
  // Parked watch_settings calls per connection. The pool's size is this
  // times server.listener.max_connections, so that every connection the
  // server admits can park its own (settings_watch.max_waiting is ignored).
  SettingsWatchOptions settings_watch;
};

}  // namespace zen

#endif  // ZEN_AGENT_SERVER_OPTIONS_H_
