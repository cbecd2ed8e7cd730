#include "tests/hostile/churn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/clock.h"
#include "rpc/channel.h"

namespace zen::hostile {
namespace {

// The address churners connect to, made once before the loop.
struct RawTarget {
  int family = AF_INET;
  sockaddr_storage addr{};
  socklen_t len = 0;
};

RawTarget MakeRawTarget(const ipc::ConnectorOptions& target) {
  RawTarget raw;
  if (target.transport == ipc::Transport::kUnix) {
    auto* un = reinterpret_cast<sockaddr_un*>(&raw.addr);
    un->sun_family = AF_UNIX;
    std::strncpy(un->sun_path, target.unix_path.c_str(),
                 sizeof(un->sun_path) - 1);
    raw.family = AF_UNIX;
    raw.len = sizeof(sockaddr_un);
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&raw.addr);
    in->sin_family = AF_INET;
    in->sin_port = htons(target.port);
    ::inet_pton(AF_INET, target.host.c_str(), &in->sin_addr);
    raw.len = sizeof(sockaddr_in);
  }
  return raw;
}

// One churner: opens at its share of the rate, closes each connection after
// `hold`, forever (the parent kills it).
[[noreturn]] void ChurnLoop(const RawTarget& target,
                            const ChurnOptions& options,
                            ChurnCounters* counters) {
  const absl::Duration interval =
      absl::Seconds(options.processes / options.connections_per_second);
  std::deque<std::pair<absl::Time, int>> open;
  absl::Time next = zen::Now();
  for (;;) {
    absl::Time now = zen::Now();
    while (!open.empty() && now - open.front().first >= options.hold) {
      ::close(open.front().second);
      open.pop_front();
    }
    // Behind by more than a second's worth: skip ahead rather than burst.
    if (now - next > absl::Seconds(1)) next = now;
    while (next <= now) {
      next += interval;
      const int fd = ::socket(target.family,
                              SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        __atomic_add_fetch(&counters->failed, 1, __ATOMIC_RELAXED);
        continue;
      }
      const int rc = ::connect(
          fd, reinterpret_cast<const sockaddr*>(&target.addr), target.len);
      if (rc != 0 && errno != EINPROGRESS) {
        ::close(fd);
        __atomic_add_fetch(&counters->failed, 1, __ATOMIC_RELAXED);
        continue;
      }
      __atomic_add_fetch(&counters->opened, 1, __ATOMIC_RELAXED);
      open.emplace_back(now, fd);
    }
    absl::Time wake = next;
    if (!open.empty()) wake = std::min(wake, open.front().first + options.hold);
    const absl::Duration sleep = wake - zen::Now();
    if (sleep > absl::ZeroDuration()) {
      ::usleep(static_cast<useconds_t>(absl::ToInt64Microseconds(sleep)));
    }
  }
}

}  // namespace

absl::Status BecomeOtherUid(bool keep_root_fsuid) {
  if (::setgroups(0, nullptr) != 0 && errno != EPERM) {
    return absl::InternalError("setgroups failed");
  }
  if (::setresgid(kOtherUid, kOtherUid, kOtherUid) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("setresgid(", kOtherUid, "): ", std::strerror(errno)));
  }
  // With keep_root_fsuid the saved uid stays 0, which is what lets
  // setfsuid(0) through.
  const uid_t saved = keep_root_fsuid ? 0 : kOtherUid;
  if (::setresuid(kOtherUid, kOtherUid, saved) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("setresuid(", kOtherUid, "): ", std::strerror(errno)));
  }
  if (keep_root_fsuid) {
    ::setfsuid(0);
    if (static_cast<uid_t>(::setfsuid(-1)) != 0) {
      return absl::PermissionDeniedError("setfsuid(0) refused");
    }
  }
  if (::geteuid() != kOtherUid) return absl::InternalError("euid unchanged");
  return absl::OkStatus();
}

bool CanSwitchUid() {
  testing::ChildOutcome outcome = testing::RunInChild(
      [] { return BecomeOtherUid(/*keep_root_fsuid=*/false); },
      absl::Seconds(10));
  return outcome.ok();
}

absl::StatusOr<Churn> Churn::Start(const ipc::ConnectorOptions& target,
                                   const ChurnOptions& options) {
  if (options.processes <= 0 || options.connections_per_second <= 0) {
    return absl::InvalidArgumentError("churn: processes and rate must be > 0");
  }
  void* page = ::mmap(nullptr, sizeof(ChurnCounters), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return absl::InternalError("churn: mmap failed");
  Churn churn;
  churn.shared_ = new (page) ChurnCounters();
  const RawTarget raw = MakeRawTarget(target);
  ChurnCounters* counters = churn.shared_;
  auto children = testing::StartTogether(
      options.processes, [raw, options, counters, target](int) -> absl::Status {
        if (options.other_uid) {
          absl::Status became = BecomeOtherUid(
              /*keep_root_fsuid=*/target.transport == ipc::Transport::kUnix);
          if (!became.ok()) return became;
        }
        ChurnLoop(raw, options, counters);
      });
  if (!children.ok()) return children.status();
  churn.children_ = std::move(*children);
  return churn;
}

Churn::Churn(Churn&& other) noexcept
    : children_(std::move(other.children_)),
      shared_(std::exchange(other.shared_, nullptr)) {}

Churn::~Churn() {
  children_.clear();  // Each kills and reaps its child.
  if (shared_ != nullptr) ::munmap(shared_, sizeof(ChurnCounters));
}

absl::Status Churn::Stop() {
  absl::Status first;
  for (testing::ForkedChild& child : children_) {
    // A churner still looping is fine; one that ended on its own failed.
    testing::ChildOutcome outcome = child.Wait(zen::Now());
    if (!outcome.killed_at_deadline && first.ok()) {
      first = absl::InternalError(
          absl::StrCat("churner ended early: ", outcome.ToString()));
    }
  }
  children_.clear();
  return first;
}

ChurnCounters Churn::counters() const {
  ChurnCounters copy;
  if (shared_ == nullptr) return copy;
  copy.opened = __atomic_load_n(&shared_->opened, __ATOMIC_RELAXED);
  copy.failed = __atomic_load_n(&shared_->failed, __ATOMIC_RELAXED);
  return copy;
}

absl::Duration ProbeResult::ConnectQuantile(double q) const {
  if (connect_latencies.empty()) return absl::ZeroDuration();
  std::vector<absl::Duration> sorted = connect_latencies;
  std::sort(sorted.begin(), sorted.end());
  const size_t at = std::min(
      sorted.size() - 1, static_cast<size_t>(q * (sorted.size() - 1) + 0.5));
  return sorted[at];
}

std::string ProbeResult::Summary() const {
  return absl::StrFormat(
      "attempts %d, success %.1f%%, connect p50 %.2f ms p99 %.2f ms%s%s",
      attempts, 100 * success_rate(),
      absl::ToDoubleMilliseconds(ConnectQuantile(0.5)),
      absl::ToDoubleMilliseconds(ConnectQuantile(0.99)),
      first_error.empty() ? "" : ", first error: ", first_error);
}

ProbeResult ProbeHonestClient(const ipc::Secret& secret,
                              const ipc::ConnectorOptions& target,
                              absl::Duration duration,
                              absl::Duration interval) {
  ProbeResult result;
  const absl::Time end = zen::Now() + duration;
  absl::Time next = zen::Now();
  while (next < end) {
    const absl::Duration wait = next - zen::Now();
    if (wait > absl::ZeroDuration()) {
      ::usleep(static_cast<useconds_t>(absl::ToInt64Microseconds(wait)));
    }
    next += interval;
    ++result.attempts;
    rpc::ChannelOptions options;
    options.connector = target;
    options.reconnect = false;
    const absl::Time start = zen::Now();
    absl::StatusOr<std::unique_ptr<rpc::Channel>> channel =
        rpc::Channel::Create(&secret, options);
    const absl::Duration connect = zen::Now() - start;
    absl::Status status = channel.status();
    if (status.ok()) {
      absl::StatusOr<rpc::RawResult> echoed =
          (*channel)->Call("echo", R"(["honest"])", "{}",
                           rpc::CallOptions::WithTimeout(absl::Seconds(2)));
      status = echoed.status();
      if (status.ok() && echoed->json() != R"("honest")") {
        status = absl::DataLossError("echo answered something else");
      }
      (*channel)->Stop();
    }
    if (status.ok()) {
      ++result.successes;
      result.connect_latencies.push_back(connect);
    } else if (result.first_error.empty()) {
      result.first_error = status.ToString();
    }
  }
  return result;
}

}  // namespace zen::hostile
