#include "testing/task_limit.h"

#include <pthread.h>
#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace zen::testing {
namespace {

// VmSize of this process in bytes, or 0.
rlim_t MappedBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    unsigned long long kb = 0;
    if (std::sscanf(line.c_str(), "VmSize: %llu kB", &kb) == 1) {
      return static_cast<rlim_t>(kb) * 1024;
    }
  }
  return 0;
}

}  // namespace

absl::Status LimitThreadsInThisChild() {
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0 ||
      pthread_attr_setstacksize(&attr, size_t{512} << 20) != 0 ||
      pthread_setattr_default_np(&attr) != 0) {
    return absl::FailedPreconditionError("cannot set the default stack size");
  }
  pthread_attr_destroy(&attr);
  const rlim_t mapped = MappedBytes();
  if (mapped == 0) return absl::FailedPreconditionError("no VmSize");
  rlimit limit{};
  if (::getrlimit(RLIMIT_AS, &limit) != 0) {
    return absl::FailedPreconditionError("getrlimit(RLIMIT_AS) failed");
  }
  limit.rlim_cur = mapped + (rlim_t{64} << 20);
  if (::setrlimit(RLIMIT_AS, &limit) != 0) {
    return absl::FailedPreconditionError("setrlimit(RLIMIT_AS) failed");
  }
  return absl::OkStatus();
}

absl::Status LiftThreadLimitInThisChild() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_AS, &limit) != 0) {
    return absl::InternalError("getrlimit(RLIMIT_AS) failed");
  }
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_AS, &limit) != 0) {
    return absl::InternalError("setrlimit(RLIMIT_AS) failed");
  }
  return absl::OkStatus();
}

}  // namespace zen::testing
