#include "ipc/connect_canceller.h"

#include <sys/socket.h>

namespace zen::ipc {

void ConnectCanceller::Cancel() {
  MutexLock lock(&mu_);
  cancelled_ = true;
  // Under mu_: the registration cannot end (and the descriptor be closed)
  // until this returns.
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

bool ConnectCanceller::cancelled() const {
  MutexLock lock(&mu_);
  return cancelled_;
}

ConnectCanceller::Registration::Registration(ConnectCanceller* canceller,
                                             int fd)
    : canceller_(canceller) {
  if (canceller_ == nullptr) return;
  MutexLock lock(&canceller_->mu_);
  if (canceller_->cancelled_) {
    ok_ = false;
    return;
  }
  canceller_->fd_ = fd;
}

ConnectCanceller::Registration::~Registration() {
  if (canceller_ == nullptr || !ok_) return;
  MutexLock lock(&canceller_->mu_);
  canceller_->fd_ = -1;
}

}  // namespace zen::ipc
