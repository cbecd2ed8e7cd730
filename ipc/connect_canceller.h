// ConnectCanceller: lets one thread abort another's connect in progress.
#ifndef ZEN_IPC_CONNECT_CANCELLER_H_
#define ZEN_IPC_CONNECT_CANCELLER_H_

#include "base/fork_guard.h"
#include "base/mutex.h"

namespace zen::ipc {

// Connecting (TCP connect, then the handshake) waits on one socket, for up
// to the connect and handshake timeouts: seconds, against a server that is
// stopped or wedged. A thread that must not wait that long (Channel::Stop)
// cancels: ConnectTcp and Connect register the socket they wait on here,
// and Cancel() shuts it down, which ends every wait on it at once; the
// connect then fails with kCancelled. Cancelling is final: every later
// connect given this canceller fails at once. Thread-safe.
class ConnectCanceller {
 public:
  ConnectCanceller() = default;
  ConnectCanceller(const ConnectCanceller&) = delete;
  ConnectCanceller& operator=(const ConnectCanceller&) = delete;

  void Cancel() ABSL_LOCKS_EXCLUDED(mu_);
  bool cancelled() const ABSL_LOCKS_EXCLUDED(mu_);

  // Keeps `fd` registered for its lifetime (one at a time). Declare it after
  // the descriptor's owner, so that it unregisters before the descriptor is
  // closed: Cancel() must never shut down a number already reused.
  class Registration {
   public:
    // `canceller` may be null (nothing to register with).
    Registration(ConnectCanceller* canceller, int fd);
    ~Registration();
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    // False if the canceller had already been cancelled (nothing was
    // registered): the caller must give up with kCancelled.
    bool ok() const { return ok_; }

   private:
    ConnectCanceller* const canceller_;
    bool ok_ = true;
  };

 private:
  mutable Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  ForkGuardRegistration fork_guard_{&mu_};
};

}  // namespace zen::ipc

#endif  // ZEN_IPC_CONNECT_CANCELLER_H_
