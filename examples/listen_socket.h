// The listening socket a pre-fork parent binds once and every worker
// inherits.
#ifndef ZEN_EXAMPLES_LISTEN_SOCKET_H_
#define ZEN_EXAMPLES_LISTEN_SOCKET_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ipc/unique_fd.h"

namespace zen::examples {

// A TCP socket bound to `host` (an IPv4 address) and `port` (0: an
// ephemeral port), listening with `backlog`. Close-on-exec, and blocking on
// purpose: the workers' accept loops block in accept(2), so that the kernel
// hands each connection to exactly one waiting worker instead of waking them
// all. TCP_NODELAY is set for the accepted sockets to inherit. SO_REUSEADDR
// lets a restarted server bind while connections of the
// previous one linger in TIME_WAIT.
//
// Errors: kInvalidArgument for a host that is not an IPv4 address;
// kUnavailable when the address cannot be bound (e.g. in use); kInternal for
// other failed system calls.
absl::StatusOr<ipc::UniqueFd> ListenTcp(absl::string_view host, uint16_t port,
                                        int backlog = 1024);

// The local port `fd` is bound to. kInternal if getsockname(2) fails.
absl::StatusOr<uint16_t> BoundPort(int fd);

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_LISTEN_SOCKET_H_
