#include "testing/descriptors.h"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/status/status.h"

namespace zen::testing {

std::set<int> OpenFds() {
  std::set<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  const int own = ::dirfd(dir);
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const int fd = std::atoi(e->d_name);
    if (fd != own) fds.insert(fd);
  }
  ::closedir(dir);
  return fds;
}

std::set<int> TcpSocketsOnPort(uint16_t port, bool listening) {
  std::set<int> found;
  for (int fd : OpenFds()) {
    sockaddr_in addr{};
    socklen_t len = sizeof(addr);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        addr.sin_family != AF_INET || ntohs(addr.sin_port) != port) {
      continue;
    }
    int accepting = 0;
    socklen_t optlen = sizeof(accepting);
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &optlen) != 0) {
      continue;
    }
    if ((accepting != 0) == listening) found.insert(fd);
  }
  return found;
}

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

absl::StatusOr<std::set<int>> FdsSurvivingExec() {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe2");
  const pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError("fork");
  if (pid == 0) {
    ::dup2(out[1], 1);  // dup2 clears close-on-exec on the copy.
    const char* path = "testing/list_fds";
    ::execl(path, path, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string listing;
  char buf[256];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof(buf))) > 0;) {
    listing.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError("list_fds failed");
  }
  std::set<int> fds;
  for (size_t pos = 0; pos < listing.size();) {
    const size_t nl = listing.find('\n', pos);
    fds.insert(std::atoi(listing.substr(pos, nl - pos).c_str()));
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return fds;
}

}  // namespace zen::testing
