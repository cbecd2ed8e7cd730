// The life of one worker process, from fork() to exit.
#ifndef ZEN_EXAMPLES_WORKER_H_
#define ZEN_EXAMPLES_WORKER_H_

#include <sys/types.h>

#include <cstddef>

#include "absl/time/time.h"
#include "agent/agent.h"
#include "examples/worker_metrics.h"

namespace zen::examples {

struct WorkerOptions {
  // The process that forked this worker; the worker stops when it is gone.
  pid_t supervisor_pid = 0;
  // httplib's pool: requests served at once (a keep-alive connection holds
  // a thread while it waits for its next request).
  size_t http_threads = 8;
  absl::Duration keep_alive_timeout = absl::Seconds(2);
  size_t keep_alive_max_requests = 100;
  // A descriptor only the parent serves (its metrics endpoint): the worker
  // closes its copy at once (never shuts it down). -1: none.
  int parent_only_fd = -1;
};

// Runs in a freshly forked worker. Connects to the parent's agent server
// (agent->client(), which drops what the process inherited), fetches the
// settings once so the first request is already protected, then serves HTTP
// on the inherited `listen_fd` until SIGTERM, SIGINT or SIGQUIT arrives or
// the supervisor dies. Then it stops accepting, lets requests in progress
// finish, flushes its events to the parent and stops its client.
//
// The calling thread must have SIGTERM, SIGINT and SIGQUIT blocked (the
// supervisor's mask, inherited at fork, does that), so every thread the
// worker starts has them blocked too and RunWorker can wait for them.
//
// Returns the process's exit status: 0 after a clean stop; 1 when the
// server cannot start, the accept loop failed, or the final flush failed.
// The caller then _exit()s: the worker must not run the parent's
// destructors or flush the parent's stdio buffers.
int RunWorker(const WorkerOptions& options, Agent* agent,
              WorkerMetrics* metrics, int listen_fd);

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_WORKER_H_
