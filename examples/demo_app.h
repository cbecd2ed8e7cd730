// The application each worker serves: a few JSON routes behind the request
// guard, and the worker's status.
#ifndef ZEN_EXAMPLES_DEMO_APP_H_
#define ZEN_EXAMPLES_DEMO_APP_H_

#include <httplib.h>

#include "agent/agent.h"
#include "examples/worker_metrics.h"

namespace zen::examples {

// The header naming the worker process that answered, on every response.
inline constexpr char kWorkerPidHeader[] = "X-Worker-Pid";
inline constexpr char kStatusPath[] = "/_zen/status";

// Installs on `server`:
//   GET and POST /api/...  the application: 200 with a small JSON body
//                          naming the worker, unless CheckRequest answers
//                          403 or 429 (with Retry-After);
//   GET /_zen/status       this worker's WorkerStatus as JSON, for
//                          operators and the self-test; not an
//                          application request (no events, not counted).
// The client IP is ClientIp(X-Forwarded-For, peer address); the user, if
// any, comes from the X-User-Id header (a stand-in for the application's
// session). `agent` and `metrics` must outlive the server.
void InstallDemoApp(httplib::Server* server, Agent* agent,
                    WorkerMetrics* metrics);

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_DEMO_APP_H_
