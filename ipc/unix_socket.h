// Unix-domain stream sockets for the opt-in kUnix transport: a listening
// socket in a fresh private directory, its removal, and the client's
// connect. Every descriptor made here is close-on-exec and nonblocking.
#ifndef ZEN_IPC_UNIX_SOCKET_H_
#define ZEN_IPC_UNIX_SOCKET_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ipc/connect_canceller.h"
#include "ipc/unique_fd.h"

namespace zen::ipc {

// A listening Unix-domain socket at `path`, alone in directory `dir`, made by
// process `owner`. Only `owner` ever removes them.
struct UnixListenSocket {
  UniqueFd fd;
  std::string dir;
  std::string path;
  pid_t owner = 0;
};

// Makes a fresh directory with mkdtemp(3) (mode 0700, so only this uid and
// root can reach what is inside) under `parent_dir`, or when that is empty
// under $TMPDIR if the socket's path fits in sun_path there, else /tmp; binds
// and listens on "<dir>/agent.sock". The pair is also registered for removal
// at normal exit (std::atexit) in this process only: a fork()ed child that
// exits never removes it. kInvalidArgument if the path would not fit in
// sun_path (108 bytes); kUnavailable if a system call fails (nothing is left
// behind).
absl::StatusOr<UnixListenSocket> ListenUnixInPrivateDir(
    absl::string_view parent_dir, int backlog);

// Unlinks the socket and removes its directory, and forgets them at exit,
// if this process is the one that made them; otherwise (a forked child)
// does nothing. Idempotent.
void RemoveUnixListenSocket(const UnixListenSocket& socket);

// Connects to the Unix-domain stream socket at `path`. kUnavailable when
// nobody listens there or access is denied (the directory's mode),
// kDeadlineExceeded ("connect timed out") when its backlog stays full past
// `deadline`, kCancelled when `canceller` (if given) is cancelled.
absl::StatusOr<UniqueFd> ConnectUnix(absl::string_view path,
                                     absl::Time deadline,
                                     ConnectCanceller* canceller = nullptr);

}  // namespace zen::ipc

#endif  // ZEN_IPC_UNIX_SOCKET_H_
