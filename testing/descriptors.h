// What descriptors a process holds, for tests of descriptor hygiene.
#ifndef ZEN_TESTING_DESCRIPTORS_H_
#define ZEN_TESTING_DESCRIPTORS_H_

#include <set>

#include "absl/status/statusor.h"

namespace zen::testing {

// The descriptors open in this process now (from /proc/self/fd).
std::set<int> OpenFds();

// Forks, execs testing/list_fds (a data dependency of the test) and returns
// the descriptors that survived into the new image. Always reaps the child.
absl::StatusOr<std::set<int>> FdsSurvivingExec();

}  // namespace zen::testing

#endif  // ZEN_TESTING_DESCRIPTORS_H_
