#include "ipc/socket_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/status_macros.h"

namespace zen::ipc {

absl::Status ErrnoStatus(absl::string_view what, int err) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(err)));
}

bool WouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

namespace {

absl::StatusOr<sockaddr_in> MakeAddress(absl::string_view host, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  const std::string host_str(host);
  if (::inet_pton(AF_INET, host_str.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an IPv4 address: '", host, "'"));
  }
  return addr;
}

}  // namespace

int PollTimeoutMs(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  const absl::Duration left = deadline - zen::Now();
  if (left <= absl::ZeroDuration()) return 0;
  const int64_t ms =
      absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
  return ms > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max()
                                              : static_cast<int>(ms);
}

absl::Status WaitFor(int fd, short events, absl::Time deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int timeout = PollTimeoutMs(deadline);
    const int n = ::poll(&p, 1, timeout);
    // Ready, or an error that the caller's I/O will report.
    if (n > 0) return absl::OkStatus();
    if (n == 0) {
      if (timeout == 0 || zen::Now() >= deadline) {
        return absl::DeadlineExceededError("timed out");
      }
      continue;  // poll woke early (ms rounding); wait out the rest.
    }
    if (errno != EINTR) return ErrnoStatus("poll", errno);
  }
}

absl::Status SetNoDelay(int fd) {
  const int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    return ErrnoStatus("setsockopt(TCP_NODELAY)", errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> ListenTcp(absl::string_view host, uint16_t port,
                                   int backlog) {
  ZEN_ASSIGN_OR_RETURN(const sockaddr_in addr, MakeAddress(host, port));
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return ErrnoStatus("socket", errno);
  // So a restarted server can take the same port while old connections sit
  // in TIME_WAIT.
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr),
             sizeof(addr)) != 0) {
    return ErrnoStatus(absl::StrCat("bind ", host, ":", port), errno);
  }
  if (::listen(fd.get(), backlog) != 0) return ErrnoStatus("listen", errno);
  return fd;
}

absl::StatusOr<uint16_t> LocalPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return ErrnoStatus("getsockname", errno);
  }
  return ntohs(addr.sin_port);
}

absl::StatusOr<UniqueFd> Accept(int listen_fd, absl::Time deadline) {
  for (;;) {
    const int fd =
        ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      UniqueFd owned(fd);
      // Best effort: a peer that already reset makes this fail harmlessly.
      (void)SetNoDelay(owned.get());
      return owned;
    }
    const int err = errno;
    if (err == EINTR) continue;
    if (WouldBlock(err)) {
      ZEN_RETURN_IF_ERROR(WaitFor(listen_fd, POLLIN, deadline));
      continue;
    }
    return ErrnoStatus("accept", err);
  }
}

absl::StatusOr<UniqueFd> ConnectTcp(absl::string_view host, uint16_t port,
                                    absl::Time deadline,
                                    ConnectCanceller* canceller) {
  ZEN_ASSIGN_OR_RETURN(const sockaddr_in addr, MakeAddress(host, port));
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return ErrnoStatus("socket", errno);
  const ConnectCanceller::Registration registration(canceller, fd.get());
  if (!registration.ok()) return absl::CancelledError("connect cancelled");
  ZEN_RETURN_IF_ERROR(SetNoDelay(fd.get()));
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr),
                   sizeof(addr));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno != EINPROGRESS) return ErrnoStatus("connect", errno);
    absl::Status waited = WaitFor(fd.get(), POLLOUT, deadline);
    if (absl::IsDeadlineExceeded(waited)) {
      return absl::DeadlineExceededError("connect timed out");
    }
    ZEN_RETURN_IF_ERROR(waited);
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (canceller != nullptr && canceller->cancelled()) {
      return absl::CancelledError("connect cancelled");
    }
    if (err != 0) return ErrnoStatus("connect", err);
  }
  return fd;
}

absl::StatusOr<size_t> ReceiveOnce(int fd, absl::Span<uint8_t> out, int flags) {
  const ssize_t n = ::recv(fd, out.data(), out.size(), flags);
  if (n > 0) return static_cast<size_t>(n);
  if (n == 0) return absl::UnavailableError("connection closed");
  const int err = errno;
  if (err == EINTR || WouldBlock(err)) return 0;
  if (err == ECONNRESET || err == EPIPE) {
    return absl::UnavailableError("connection closed");
  }
  return ErrnoStatus("read", err);
}

absl::StatusOr<size_t> ReadSome(int fd, absl::Span<uint8_t> out,
                                absl::Time deadline) {
  for (;;) {
    // MSG_DONTWAIT: the wait is ours (deadline-bound) even on a socket whose
    // reads block (SocketStream's).
    absl::StatusOr<size_t> n = ReceiveOnce(fd, out, MSG_DONTWAIT);
    if (!n.ok() || *n > 0) return n;
    absl::Status waited = WaitFor(fd, POLLIN, deadline);
    if (absl::IsDeadlineExceeded(waited)) {
      return absl::DeadlineExceededError("read timed out");
    }
    ZEN_RETURN_IF_ERROR(waited);
  }
}

absl::Status ReadExactly(int fd, absl::Span<uint8_t> out, absl::Time deadline) {
  size_t done = 0;
  while (done < out.size()) {
    ZEN_ASSIGN_OR_RETURN(const size_t n,
                         ReadSome(fd, out.subspan(done), deadline));
    done += n;
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, absl::Span<const iovec> parts,
                      absl::Time deadline, size_t* sent) {
  size_t sent_here = 0;
  if (sent == nullptr) sent = &sent_here;
  *sent = 0;
  size_t remaining = 0;
  for (const iovec& part : parts) remaining += part.iov_len;
  // Copied only when a partial write forces us to advance through the array;
  // the common case (the kernel takes the whole frame) allocates nothing.
  std::vector<iovec> rest;
  const iovec* iov = parts.data();
  size_t count = parts.size();
  while (remaining > 0) {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = count;
    // MSG_NOSIGNAL: a closed peer must give EPIPE, not kill the process.
    // MSG_DONTWAIT: the wait is ours (deadline-bound) even on a socket whose
    // reads block (SocketStream's).
    const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (WouldBlock(err)) {
        absl::Status waited = WaitFor(fd, POLLOUT, deadline);
        if (absl::IsDeadlineExceeded(waited)) {
          return absl::DeadlineExceededError("write timed out");
        }
        ZEN_RETURN_IF_ERROR(waited);
        continue;
      }
      if (err == EPIPE || err == ECONNRESET) {
        return absl::UnavailableError("connection closed");
      }
      return ErrnoStatus("write", err);
    }
    size_t written = static_cast<size_t>(n);
    *sent += written;
    remaining -= written;
    if (remaining == 0) break;
    if (rest.empty()) rest.assign(iov, iov + count);
    size_t skip = 0;
    while (written >= rest[skip].iov_len) written -= rest[skip++].iov_len;
    rest.erase(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(skip));
    rest[0].iov_base = static_cast<char*>(rest[0].iov_base) + written;
    rest[0].iov_len -= written;
    iov = rest.data();
    count = rest.size();
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, absl::string_view data, absl::Time deadline) {
  iovec part{const_cast<char*>(data.data()), data.size()};
  return WriteAll(fd, absl::Span<const iovec>(&part, 1), deadline);
}

}  // namespace zen::ipc
