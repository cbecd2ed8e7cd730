// Socket I/O, deadline-bound except for ReceiveOnce.
//
// A function that takes a deadline (absolute; absl::InfiniteFuture() for
// none) never waits past it: it does its I/O without blocking (accept4 and
// connect on a nonblocking socket, recv and sendmsg with MSG_DONTWAIT),
// waits for readiness with poll(2), and retries on EINTR; so it behaves the
// same on blocking and nonblocking descriptors. ReceiveOnce takes no
// deadline and does not wait with poll(2): it is one recv(2), which blocks
// as the socket and its flags make it (SocketStream blocks in it under
// SO_RCVTIMEO), and it returns 0 on EINTR instead of retrying.
//
// Descriptors made here are close-on-exec and start nonblocking; connected
// TCP sockets get TCP_NODELAY. Errors as docs/errors.md says: peer closed
// or reset → kUnavailable ("connection closed"); deadline →
// kDeadlineExceeded; a host that is not a dotted IPv4 quad →
// kInvalidArgument; other system errors → kUnavailable with errno's text.
#ifndef ZEN_IPC_SOCKET_IO_H_
#define ZEN_IPC_SOCKET_IO_H_

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ipc/connect_canceller.h"
#include "ipc/unique_fd.h"

namespace zen::ipc {

// The loopback address servers bind by default.
inline constexpr char kLoopbackHost[] = "127.0.0.1";

// kUnavailable naming the failed call and errno's text.
absl::Status ErrnoStatus(absl::string_view what, int err);

// Whether `err` is EAGAIN/EWOULDBLOCK.
bool WouldBlock(int err);

// Milliseconds for poll(2) until `deadline`: 0 if it has passed, -1 if
// infinite, rounded up so a wait never ends before the deadline.
int PollTimeoutMs(absl::Time deadline);

// Waits until `fd` has any of `events` (POLLIN/POLLOUT) or an error/hangup.
// kDeadlineExceeded when the deadline passes first.
absl::Status WaitFor(int fd, short events, absl::Time deadline);

// Sets TCP_NODELAY. Every TCP connection of the library has it (the
// reference loses it on reconnect; docs/protocol.md).
absl::Status SetNoDelay(int fd);

// Binds a listening IPv4 TCP socket on host:port (port 0: ephemeral).
absl::StatusOr<UniqueFd> ListenTcp(absl::string_view host, uint16_t port,
                                   int backlog);

// The local port of a bound socket.
absl::StatusOr<uint16_t> LocalPort(int fd);

// Accepts one connection (close-on-exec, nonblocking, TCP_NODELAY).
// kDeadlineExceeded if none arrives in time; kUnavailable with errno's text
// when accept4(2) fails otherwise (ECONNABORTED, EMFILE, ...).
absl::StatusOr<UniqueFd> Accept(int listen_fd, absl::Time deadline);

// Connects to an IPv4 host:port (dotted quad) by nonblocking connect.
// kDeadlineExceeded ("connect timed out"), kUnavailable when refused,
// kCancelled when `canceller` (if given) is cancelled meanwhile.
absl::StatusOr<UniqueFd> ConnectTcp(absl::string_view host, uint16_t port,
                                    absl::Time deadline,
                                    ConnectCanceller* canceller = nullptr);

// Reads exactly `out.size()` bytes. kUnavailable ("connection closed") on EOF
// before that; kDeadlineExceeded ("read timed out").
absl::Status ReadExactly(int fd, absl::Span<uint8_t> out, absl::Time deadline);

// One recv(2) of at most `out.size()` bytes with `flags`, no deadline of its
// own: it blocks if the socket does and `flags` lacks MSG_DONTWAIT, until
// bytes come or the socket's SO_RCVTIMEO runs out. Returns the count (> 0);
// 0 when nothing came (EAGAIN: none yet, or SO_RCVTIMEO ran out; EINTR);
// kUnavailable ("connection closed") on end of stream or a reset peer; other
// errors as kUnavailable with errno's text.
absl::StatusOr<size_t> ReceiveOnce(int fd, absl::Span<uint8_t> out, int flags);

// Reads what is available from socket `fd` (blocking or not: the wait is
// bounded by `deadline` either way), at least one byte, at most `out.size()`.
// Returns the count. kUnavailable on EOF.
absl::StatusOr<size_t> ReadSome(int fd, absl::Span<uint8_t> out,
                                absl::Time deadline);

// Writes every byte of `parts` in as few sendmsg(2) calls as the kernel
// allows (one, normally). kDeadlineExceeded ("write timed out") if the
// socket takes no more before `deadline`. On failure some prefix may have
// been written, and a connection left mid-message must be dropped; `*sent`
// (if not null) is set to the bytes written (0: none, the connection is as
// it was).
absl::Status WriteAll(int fd, absl::Span<const iovec> parts,
                      absl::Time deadline, size_t* sent = nullptr);

// Writes every byte of `data`. Same contract as WriteAll.
absl::Status WriteAll(int fd, absl::string_view data, absl::Time deadline);

}  // namespace zen::ipc

#endif  // ZEN_IPC_SOCKET_IO_H_
