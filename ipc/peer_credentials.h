// Who is on the other end of an accepted local connection: the peer's uid for
// loopback TCP (asked of the kernel by NETLINK_SOCK_DIAG), its pid and uid
// for a Unix-domain socket (SO_PEERCRED), and whether a pid descends from
// ours. The listener uses them to refuse strangers before spending a thread
// or a handshake slot on them.
#ifndef ZEN_IPC_PEER_CREDENTIALS_H_
#define ZEN_IPC_PEER_CREDENTIALS_H_

#include <sys/types.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "ipc/unique_fd.h"

namespace zen::ipc {

// The uid owning the peer's socket of a TCP connection over IPv4 whose peer
// is on this machine, in this network namespace (loopback): one
// SOCK_DIAG_BY_FAMILY request (inet_diag_req_v2) naming the connection's
// 4-tuple as the peer sees it (our address as its destination), answered by
// the kernel within the request.
//
// One netlink socket (close-on-exec), opened by Open() or else by the first
// query, and reused. Not thread-safe: one per accepting thread.
class TcpPeerUidQuery {
 public:
  TcpPeerUidQuery() = default;
  TcpPeerUidQuery(TcpPeerUidQuery&&) = default;
  TcpPeerUidQuery& operator=(TcpPeerUidQuery&&) = default;

  // Opens the netlink socket now, so that it is not a new descriptor later
  // (tests count them). kUnavailable if netlink is not there; the next
  // PeerUid tries again.
  absl::Status Open();

  // The uid of the process that created the peer's socket (for a peer
  // already in TIME_WAIT the kernel says 0). Errors, all kUnavailable: no
  // netlink (a sandbox without it), the kernel's refusal, or no such socket
  // (the peer is not local, or already gone).
  absl::StatusOr<uid_t> PeerUid(int fd);

  // Closes this process's netlink socket (a forked child's copy).
  void Close() { netlink_.Reset(); }

 private:
  UniqueFd netlink_;
  uint32_t sequence_ = 0;
};

// The credentials the kernel recorded when the peer of Unix-domain socket
// `fd` connected (SO_PEERCRED). kUnavailable if the call fails.
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};
absl::StatusOr<PeerCredentials> UnixPeerCredentials(int fd);

// Whether `ancestor` is `pid` itself or one of its ancestors, following the
// "PPid:" lines of /proc/<pid>/status at most `max_depth` steps up. False
// (never an error) when the chain ends (pid 1 or 0), is longer than that, or
// a process on it has exited meanwhile (its status cannot be read): a peer
// that is gone, or that was reparented to init or a subreaper, is no
// descendant. pid recycling between the connect and this walk could make an
// exited peer's pid name another process; the connection then belongs to
// nobody, so at worst it reaches the handshake.
bool IsDescendantOf(pid_t pid, pid_t ancestor, int max_depth = 64);

}  // namespace zen::ipc

#endif  // ZEN_IPC_PEER_CREDENTIALS_H_
