#include "examples/worker.h"

#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "base/log.h"
#include "examples/demo_app.h"
#include "examples/shared_socket_http_server.h"

namespace zen::examples {
namespace {

// Waits up to `timeout` for one of the stop signals; true if one came.
bool WaitForStopSignal(absl::Duration timeout) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGQUIT);
  const timespec wait = absl::ToTimespec(timeout);
  return ::sigtimedwait(&stop, nullptr, &wait) > 0;
}

}  // namespace

int RunWorker(const WorkerOptions& options, Agent* agent,
              WorkerMetrics* metrics, int listen_fd) {
  if (options.parent_only_fd >= 0) ::close(options.parent_only_fd);
  // A worker must not outlive its supervisor: the Agent's exit_with_parent
  // (set by prefork_server_main) sends it SIGTERM, a clean stop, when the
  // supervisor exits, even one that died before the fork handler armed it.
  // The first call after the fork drops the parent's state and connects.
  if (AgentClient* client = agent->client()) {
    absl::Status polled = client->PollSettings();
    if (!polled.ok()) {
      LogWarning("worker ", ::getpid(),
                 ": first settings poll failed: ", polled.message());
    }
  } else {
    LogWarning("worker ", ::getpid(),
               ": parent unreachable; serving unprotected until it is");
  }

  SharedSocketHttpServer server(listen_fd, options.http_threads);
  server.set_keep_alive_timeout(
      absl::ToInt64Seconds(options.keep_alive_timeout));
  server.set_keep_alive_max_count(options.keep_alive_max_requests);
  InstallDemoApp(&server, agent, metrics);
  absl::Status started = server.Start();
  if (!started.ok()) {
    LogError("worker ", ::getpid(), ": ", started.message());
    return 1;
  }

  int exit_status = 0;
  for (;;) {
    if (WaitForStopSignal(absl::Milliseconds(200))) break;
    if (::getppid() != options.supervisor_pid) break;
    if (server.accept_loop_done()) {
      LogError("worker ", ::getpid(), ": accept loop failed");
      exit_status = 1;
      break;
    }
  }
  server.StopAccepting();

  // Every request has been answered: what they recorded goes to the parent
  // now rather than at the next heartbeat, which will not come.
  if (AgentClient* client = agent->client()) {
    absl::Status flushed = client->Flush();
    if (!flushed.ok()) {
      LogError("worker ", ::getpid(),
               ": final flush failed: ", flushed.message());
      exit_status = 1;
    }
    client->Stop();
  }
  return exit_status;
}

}  // namespace zen::examples
