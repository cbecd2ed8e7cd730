// An httplib::Server that accepts on a listening socket it shares with other
// processes: the one the pre-fork parent bound and every worker inherited.
#ifndef ZEN_EXAMPLES_SHARED_SOCKET_HTTP_SERVER_H_
#define ZEN_EXAMPLES_SHARED_SOCKET_HTTP_SERVER_H_

#include <httplib.h>
#include <pthread.h>

#include <cstddef>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/mutex.h"

namespace zen::examples {

// cpp-httplib 0.11 has no call that serves an existing socket, but its
// accept loop (listen_after_bind) runs on the protected `svr_sock_`, so this
// subclass sets that to the inherited descriptor.
//
// Stopping is the delicate part. httplib's stop() shuts the listening socket
// down, and shutdown(2) acts on the socket, not on this process's
// descriptor: on a socket shared with the parent and the other workers it
// would stop them all. So this class never calls it. StopAccepting() takes
// the descriptor away from the accept loop and interrupts the loop's
// blocking accept(2) with kWakeSignal sent to the loop's thread only (a
// handler installed without SA_RESTART makes accept fail with EINTR, and
// httplib then leaves its loop because the socket is gone). The descriptor
// itself is neither shut down nor closed here; it belongs to the caller.
//
// Configure the server (routes, timeouts, thread count) before Start().
// Start/StopAccepting must be called from one thread; handlers run on
// httplib's pool threads.
class SharedSocketHttpServer : public httplib::Server {
 public:
  // Reserved in processes that use this class: its handler does nothing.
  static constexpr int kWakeSignal = SIGUSR2;

  // `listen_fd` must be a blocking listening socket (httplib's loop gives up
  // on EAGAIN) that outlives this object. Requests are served by a pool of
  // `threads` threads; a keep-alive connection holds one thread.
  SharedSocketHttpServer(int listen_fd, size_t threads);
  // Stops accepting (see StopAccepting).
  ~SharedSocketHttpServer() override;

  // Installs the kWakeSignal handler and starts the accept loop on a thread
  // of its own. kFailedPrecondition if already started; kInternal if the
  // handler cannot be installed.
  absl::Status Start();

  // Stops accepting and returns once the accept loop and every request in
  // progress have finished (a keep-alive connection waits at most the
  // keep-alive timeout for its next request). Idempotent.
  void StopAccepting();

  // True once the accept loop has returned, whether by StopAccepting() or
  // because accept(2) failed (httplib then closed this process's
  // descriptor; the worker should exit so that a fresh one replaces it).
  bool accept_loop_done() const;

 private:
  void AcceptLoop();

  const int listen_fd_;
  std::thread accept_thread_;
  bool started_ = false;
  mutable Mutex mu_;
  CondVar done_changed_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_SHARED_SOCKET_HTTP_SERVER_H_
