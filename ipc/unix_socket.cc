#include "ipc/unix_socket.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/fork_guard.h"
#include "base/mutex.h"
#include "base/status_macros.h"
#include "ipc/socket_io.h"

namespace zen::ipc {
namespace {

constexpr char kSocketName[] = "agent.sock";
constexpr char kDirTemplate[] = "zen-agent-XXXXXX";

absl::StatusOr<sockaddr_un> MakeUnixAddress(absl::string_view path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unix socket path must have 1..",
                     sizeof(addr.sun_path) - 1, " bytes: '", path, "'"));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// Where the private directory goes when the caller does not say.
std::string DefaultParentDir() {
  const char* tmpdir = std::getenv("TMPDIR");
  const size_t room = sizeof(sockaddr_un{}.sun_path) - 1 -
                      (sizeof(kDirTemplate) - 1) - 1 -
                      (sizeof(kSocketName) - 1) - 1;
  if (tmpdir != nullptr && tmpdir[0] == '/' && std::strlen(tmpdir) <= room) {
    return tmpdir;
  }
  return "/tmp";
}

// Sockets to remove at normal exit, each with the pid that made it. Leaked,
// like every process-wide hook (destroying it at exit would race the
// handler); its mutex is fork-guarded, so a forked child that exits never
// waits on a lock a vanished thread held.
struct ExitRegistry {
  Mutex mu;
  std::vector<std::pair<std::string, std::string>> entries
      ABSL_GUARDED_BY(mu);  // (dir, path)
  std::vector<pid_t> owners ABSL_GUARDED_BY(mu);
  ForkGuardRegistration guard{&mu};
};

ExitRegistry& Registry() {
  static ExitRegistry* registry = [] {
    auto* r = new ExitRegistry;
    std::atexit([] {
      ExitRegistry& reg = Registry();
      MutexLock lock(&reg.mu);
      const pid_t self = ::getpid();
      for (size_t i = 0; i < reg.entries.size(); ++i) {
        if (reg.owners[i] != self) continue;  // The parent's, not ours.
        ::unlink(reg.entries[i].second.c_str());
        ::rmdir(reg.entries[i].first.c_str());
      }
      reg.entries.clear();
      reg.owners.clear();
    });
    return r;
  }();
  return *registry;
}

}  // namespace

absl::StatusOr<UnixListenSocket> ListenUnixInPrivateDir(
    absl::string_view parent_dir, int backlog) {
  const std::string parent =
      parent_dir.empty() ? DefaultParentDir() : std::string(parent_dir);
  std::string dir = absl::StrCat(parent, "/", kDirTemplate);
  std::string path = absl::StrCat(dir, "/", kSocketName);
  ZEN_ASSIGN_OR_RETURN(sockaddr_un addr, MakeUnixAddress(path));
  ExitRegistry& registry = Registry();  // Before the directory exists.
  // mkdtemp makes the directory 0700 whatever the umask.
  if (::mkdtemp(dir.data()) == nullptr) {
    return ErrnoStatus(absl::StrCat("mkdtemp in ", parent), errno);
  }
  path = absl::StrCat(dir, "/", kSocketName);
  std::memcpy(addr.sun_path, path.data(), path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  absl::Status failed;
  if (!fd.valid()) {
    failed = ErrnoStatus("socket(AF_UNIX)", errno);
  } else if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr),
                    sizeof(addr)) != 0) {
    failed = ErrnoStatus(absl::StrCat("bind ", path), errno);
  } else if (::listen(fd.get(), backlog) != 0) {
    failed = ErrnoStatus("listen", errno);
  }
  if (!failed.ok()) {
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
    return failed;
  }
  UnixListenSocket socket{std::move(fd), std::move(dir), std::move(path),
                          ::getpid()};
  MutexLock lock(&registry.mu);
  registry.entries.emplace_back(socket.dir, socket.path);
  registry.owners.push_back(socket.owner);
  return socket;
}

void RemoveUnixListenSocket(const UnixListenSocket& socket) {
  if (socket.path.empty() || socket.owner != ::getpid()) return;
  ::unlink(socket.path.c_str());
  ::rmdir(socket.dir.c_str());
  ExitRegistry& registry = Registry();
  MutexLock lock(&registry.mu);
  for (size_t i = 0; i < registry.entries.size(); ++i) {
    if (registry.entries[i].second == socket.path &&
        registry.owners[i] == socket.owner) {
      registry.entries.erase(registry.entries.begin() + i);
      registry.owners.erase(registry.owners.begin() + i);
      break;
    }
  }
}

absl::StatusOr<UniqueFd> ConnectUnix(absl::string_view path,
                                     absl::Time deadline,
                                     ConnectCanceller* canceller) {
  ZEN_ASSIGN_OR_RETURN(const sockaddr_un addr, MakeUnixAddress(path));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return ErrnoStatus("socket(AF_UNIX)", errno);
  const ConnectCanceller::Registration registration(canceller, fd.get());
  if (!registration.ok()) return absl::CancelledError("connect cancelled");
  // A nonblocking connect to a Unix socket completes at once, or fails with
  // EAGAIN while the listener's backlog is full: retry until the deadline.
  int backoff_ms = 1;
  for (;;) {
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr),
                  sizeof(addr)) == 0) {
      return fd;
    }
    const int err = errno;
    if (err == EINTR) continue;
    if (err != EAGAIN) return ErrnoStatus(absl::StrCat("connect ", path), err);
    if (canceller != nullptr && canceller->cancelled()) {
      return absl::CancelledError("connect cancelled");
    }
    if (zen::Now() >= deadline) {
      return absl::DeadlineExceededError("connect timed out");
    }
    ::poll(nullptr, 0, backoff_ms);
    backoff_ms = std::min(backoff_ms * 2, 10);
  }
}

}  // namespace zen::ipc
