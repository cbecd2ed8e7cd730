// How much memory this process holds, as the kernel counts it: for tests
// that bound what hostile input can make a process keep.
#ifndef ZEN_TESTING_RESIDENT_MEMORY_H_
#define ZEN_TESTING_RESIDENT_MEMORY_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace zen::testing {

// This process's resident set size in KiB (VmRSS of /proc/self/status).
// kUnavailable when the file cannot be read, kDataLoss when it has no
// readable VmRSS line.
absl::StatusOr<int64_t> ResidentKiB();

}  // namespace zen::testing

#endif  // ZEN_TESTING_RESIDENT_MEMORY_H_
