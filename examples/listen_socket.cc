#include "examples/listen_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace zen::examples {
namespace {

absl::Status SystemError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<ipc::UniqueFd> ListenTcp(absl::string_view host, uint16_t port,
                                        int backlog) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  const std::string host_text(host);
  if (::inet_pton(AF_INET, host_text.c_str(), &address.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an IPv4 address: '", host, "'"));
  }
  ipc::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return SystemError("socket");
  const int on = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) {
    return SystemError("setsockopt(SO_REUSEADDR)");
  }
  // Accepted sockets inherit it. httplib writes a response's head and body
  // separately; with Nagle's algorithm the body would wait for the client's
  // delayed ACK (40 ms) on every keep-alive request after the first.
  if (::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0) {
    return SystemError("setsockopt(TCP_NODELAY)");
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address),
             sizeof(address)) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot bind ", host, ":", port,
                                               ": ", std::strerror(errno)));
  }
  if (::listen(fd.get(), backlog) != 0) return SystemError("listen");
  return fd;
}

absl::StatusOr<uint16_t> BoundPort(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return SystemError("getsockname");
  }
  return ntohs(address.sin_port);
}

}  // namespace zen::examples
