#include "ipc/peer_credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/clock.h"
#include "base/status_macros.h"
#include "ipc/socket_io.h"

namespace zen::ipc {
namespace {

// The kernel answers within the request (sendmsg); this only bounds a wait
// for an answer that, on a sane kernel, is already queued.
constexpr absl::Duration kDiagAnswerTimeout = absl::Milliseconds(100);

struct DiagRequest {
  nlmsghdr header;
  inet_diag_req_v2 body;
};

}  // namespace

absl::Status TcpPeerUidQuery::Open() {
  if (netlink_.valid()) return absl::OkStatus();
  netlink_.Reset(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                          NETLINK_SOCK_DIAG));
  if (!netlink_.valid()) return ErrnoStatus("peer uid: netlink socket", errno);
  return absl::OkStatus();
}

absl::StatusOr<uid_t> TcpPeerUidQuery::PeerUid(int fd) {
  sockaddr_in local{};
  sockaddr_in remote{};
  socklen_t local_len = sizeof(local);
  socklen_t remote_len = sizeof(remote);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 ||
      ::getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &remote_len) !=
          0) {
    return ErrnoStatus("peer uid: getsockname/getpeername", errno);
  }
  if (local.sin_family != AF_INET || remote.sin_family != AF_INET) {
    return absl::UnavailableError("peer uid: not an IPv4 connection");
  }
  ZEN_RETURN_IF_ERROR(Open());
  DiagRequest request{};
  request.header.nlmsg_len = sizeof(request);
  request.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.header.nlmsg_seq = ++sequence_;
  request.body.sdiag_family = AF_INET;
  request.body.sdiag_protocol = IPPROTO_TCP;
  request.body.idiag_states = ~0u;
  // The peer's socket: its source is our peer's address, its destination
  // ours. Ports and addresses stay in network byte order, as the kernel
  // wants them.
  request.body.id.idiag_sport = remote.sin_port;
  request.body.id.idiag_dport = local.sin_port;
  request.body.id.idiag_src[0] = remote.sin_addr.s_addr;
  request.body.id.idiag_dst[0] = local.sin_addr.s_addr;
  request.body.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  request.body.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = ::sendto(netlink_.get(), &request, sizeof(request), 0,
                    reinterpret_cast<const sockaddr*>(&kernel), sizeof(kernel));
  } while (sent < 0 && errno == EINTR);
  if (sent != static_cast<ssize_t>(sizeof(request))) {
    return ErrnoStatus("peer uid: netlink send", errno);
  }
  const absl::Time deadline = zen::Now() + kDiagAnswerTimeout;
  alignas(nlmsghdr) char buffer[8192];
  for (;;) {
    const ssize_t n = ::recv(netlink_.get(), buffer, sizeof(buffer), 0);
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (!WouldBlock(err)) return ErrnoStatus("peer uid: netlink recv", err);
      absl::Status waited = WaitFor(netlink_.get(), POLLIN, deadline);
      if (!waited.ok()) return absl::UnavailableError("peer uid: no answer");
      continue;
    }
    // Walks the messages by hand: NLMSG_OK compares signed with unsigned.
    size_t left = static_cast<size_t>(n);
    for (const char* at = buffer; left >= sizeof(nlmsghdr);) {
      const auto* h = reinterpret_cast<const nlmsghdr*>(at);
      if (h->nlmsg_len < sizeof(nlmsghdr) || h->nlmsg_len > left) break;
      const size_t step = std::min<size_t>(NLMSG_ALIGN(h->nlmsg_len), left);
      at += step;
      left -= step;
      // An answer to an earlier query that gave up waiting: skip it.
      if (h->nlmsg_seq != sequence_) continue;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        return ErrnoStatus("peer uid: sock_diag", -error->error);
      }
      if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
          h->nlmsg_len >= NLMSG_LENGTH(sizeof(inet_diag_msg))) {
        return static_cast<const inet_diag_msg*>(NLMSG_DATA(h))->idiag_uid;
      }
      return absl::UnavailableError("peer uid: unexpected netlink answer");
    }
  }
}

absl::StatusOr<PeerCredentials> UnixPeerCredentials(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return ErrnoStatus("getsockopt(SO_PEERCRED)", errno);
  }
  return PeerCredentials{cred.pid, cred.uid, cred.gid};
}

namespace {

// The parent pid in /proc/<pid>/status, or 0 if it cannot be read.
pid_t ParentOf(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/status", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  UniqueFd owned(fd);
  // PPid comes within the first few hundred bytes.
  char text[1024];
  ssize_t n;
  do {
    n = ::read(fd, text, sizeof(text) - 1);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return 0;
  const absl::string_view status(text, static_cast<size_t>(n));
  const size_t at = status.find("\nPPid:");
  if (at == absl::string_view::npos) return 0;
  absl::string_view rest = status.substr(at + 6);
  rest = rest.substr(0, rest.find('\n'));
  int parent = 0;
  if (!absl::SimpleAtoi(rest, &parent)) return 0;
  return parent;
}

}  // namespace

bool IsDescendantOf(pid_t pid, pid_t ancestor, int max_depth) {
  for (int depth = 0; depth <= max_depth; ++depth) {
    if (pid == ancestor) return true;
    if (pid <= 1) return false;
    pid = ParentOf(pid);
  }
  return false;
}

}  // namespace zen::ipc
