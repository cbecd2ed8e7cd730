// UniqueFd: sole owner of one file descriptor.
#ifndef ZEN_IPC_UNIQUE_FD_H_
#define ZEN_IPC_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace zen::ipc {

// Owns a descriptor and closes it when destroyed. Move-only. Closing never
// calls shutdown(2): a forked child that destroys its copy of an inherited
// socket must not cut the parent's connection. Not thread-safe.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // Gives up ownership without closing.
  int Release() { return std::exchange(fd_, -1); }

  // Closes the owned descriptor (if any) and takes `fd`.
  void Reset(int fd = -1) {
    // close(2) is not retried on EINTR: on Linux the descriptor is released
    // even then, and a retry could close a descriptor another thread opened.
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace zen::ipc

#endif  // ZEN_IPC_UNIQUE_FD_H_
