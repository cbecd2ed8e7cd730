// What descriptors a process holds, for tests of descriptor hygiene.
#ifndef ZEN_TESTING_DESCRIPTORS_H_
#define ZEN_TESTING_DESCRIPTORS_H_

#include <cstdint>
#include <set>

#include "absl/status/statusor.h"

namespace zen::testing {

// The descriptors open in this process now (from /proc/self/fd).
std::set<int> OpenFds();

// Forks, execs testing/list_fds (a data dependency of the test) and returns
// the descriptors that survived into the new image. Always reaps the child.
absl::StatusOr<std::set<int>> FdsSurvivingExec();

// This process's TCP sockets whose local port is `port`: the listening one
// (SO_ACCEPTCONN) if `listening`, else the accepted connections.
std::set<int> TcpSocketsOnPort(uint16_t port, bool listening);

// Whether `fd` is open in this process (fcntl(F_GETFD) succeeds).
bool IsOpen(int fd);

}  // namespace zen::testing

#endif  // ZEN_TESTING_DESCRIPTORS_H_
