#include "examples/shared_socket_http_server.h"

#include <errno.h>
#include <signal.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/clock.h"

namespace zen::examples {
namespace {

// Only its interrupting matters.
void IgnoreWakeSignal(int) {}

}  // namespace

SharedSocketHttpServer::SharedSocketHttpServer(int listen_fd, size_t threads)
    : listen_fd_(listen_fd) {
  new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
}

SharedSocketHttpServer::~SharedSocketHttpServer() { StopAccepting(); }

absl::Status SharedSocketHttpServer::Start() {
  if (started_) return absl::FailedPreconditionError("already started");
  struct sigaction action {};
  action.sa_handler = IgnoreWakeSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // No SA_RESTART: accept(2) must fail with EINTR.
  if (::sigaction(kWakeSignal, &action, nullptr) != 0) {
    return absl::InternalError(
        absl::StrCat("sigaction: ", std::strerror(errno)));
  }
  svr_sock_ = listen_fd_;
  started_ = true;
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return absl::OkStatus();
}

void SharedSocketHttpServer::AcceptLoop() {
  // The thread may have inherited a mask that blocks the wake signal.
  sigset_t wake;
  sigemptyset(&wake);
  sigaddset(&wake, kWakeSignal);
  ::pthread_sigmask(SIG_UNBLOCK, &wake, nullptr);
  listen_after_bind();
  MutexLock lock(&mu_);
  done_ = true;
  done_changed_.SignalAll();
}

void SharedSocketHttpServer::StopAccepting() {
  if (!started_) return;
  started_ = false;
  // From here on httplib's loop sees no socket: accept(2) on -1 fails, and a
  // thread already blocked in accept(2) is interrupted below.
  svr_sock_ = INVALID_SOCKET;
  for (;;) {
    ::pthread_kill(accept_thread_.native_handle(), kWakeSignal);
    MutexLock lock(&mu_);
    // A signal that lands just before the thread enters accept(2) is lost,
    // so send again until the loop is gone.
    if (!done_) {
      done_changed_.WaitUntil(&mu_, zen::Now() + absl::Milliseconds(20));
    }
    if (done_) break;
  }
  accept_thread_.join();
}

bool SharedSocketHttpServer::accept_loop_done() const {
  MutexLock lock(&mu_);
  return done_;
}

}  // namespace zen::examples
