// The churn attack, measured (docs/security.md, "Churn"). For each
// scenario: a fresh server with the rpc_cli built-in methods, churners
// (ChurnOptions) against it, and the honest client of ProbeHonestClient
// (connect + `echo` every 50 ms); prints one line per scenario with the
// honest success rate and connect latency p50/p99.
//
//   bazel run -c opt //tests/hostile:churn_bench --
//     [--scenarios=tcp_unloaded,tcp_same,tcp_other,tcp_other_nocheck,
//                  tcp_other_elsewhere,unix_unloaded,unix_other]
//     [--rate=5000] [--processes=4] [--hold_ms=100] [--seconds=10]
//     [--probe_ms=50]
//
// tcp_other_elsewhere is the control: the same churn aimed at a bare
// listener of this process (accept, close; nothing else) while the honest
// client talks to the server, so its figures are what the churn's load on
// the machine alone does to an honest connect. Other-uid scenarios need root
// outside a user namespace (setresuid).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "rpc/server.h"
#include "tests/hostile/churn.h"
#include "tests/hostile/live_server.h"

namespace zen::hostile {
namespace {

struct Flags {
  std::vector<std::string> scenarios = {
      "tcp_unloaded",        "tcp_same",      "tcp_other", "tcp_other_nocheck",
      "tcp_other_elsewhere", "unix_unloaded", "unix_other"};
  double rate = 5000;
  int processes = 4;
  int hold_ms = 100;
  int seconds = 10;
  int probe_ms = 50;  // The honest client's pace.
};

bool ParseFlag(absl::string_view arg, Flags* flags) {
  const size_t eq = arg.find('=');
  if (eq == absl::string_view::npos) return false;
  const absl::string_view name = arg.substr(0, eq);
  const absl::string_view value = arg.substr(eq + 1);
  if (name == "--scenarios") {
    flags->scenarios = absl::StrSplit(value, ',', absl::SkipEmpty());
    return true;
  }
  if (name == "--rate") return absl::SimpleAtod(value, &flags->rate);
  if (name == "--processes") return absl::SimpleAtoi(value, &flags->processes);
  if (name == "--hold_ms") return absl::SimpleAtoi(value, &flags->hold_ms);
  if (name == "--seconds") return absl::SimpleAtoi(value, &flags->seconds);
  if (name == "--probe_ms") return absl::SimpleAtoi(value, &flags->probe_ms);
  return false;
}

// A loopback listener that accepts and closes as fast as it can, on a thread
// of its own: the least any server could do with a churner's connection.
class BareListener {
 public:
  BareListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd_ < 0 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(fd_, SOMAXCONN) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) !=
            0) {
      std::perror("bare listener");
      std::abort();
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      while (!stop_.load(std::memory_order_relaxed)) {
        const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) ::close(fd);
      }
    });
  }
  ~BareListener() {
    stop_.store(true);
    ::shutdown(fd_, SHUT_RDWR);  // Wakes the blocked accept4.
    thread_.join();
    ::close(fd_);
  }
  ipc::ConnectorOptions Target() const {
    ipc::ConnectorOptions target;
    target.port = port_;
    return target;
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

int RunScenario(const std::string& name, const Flags& flags) {
  rpc::ServerOptions options;  // The defaults, as a host would run them.
  const bool unix_socket = name.rfind("unix_", 0) == 0;
  if (unix_socket) options.listener.transport = ipc::Transport::kUnix;
  options.listener.refuse_other_uid = name.find("nocheck") == std::string::npos;
  const bool loaded = name.find("unloaded") == std::string::npos;
  ChurnOptions churn_options;
  churn_options.processes = flags.processes;
  churn_options.connections_per_second = flags.rate;
  churn_options.hold = absl::Milliseconds(flags.hold_ms);
  churn_options.other_uid = name.find("other") != std::string::npos;
  if (churn_options.other_uid && !CanSwitchUid()) {
    std::printf("%-18s skipped: cannot setresuid here\n", name.c_str());
    return 0;
  }
  LiveServer server(options);
  const bool elsewhere = name.find("elsewhere") != std::string::npos;
  std::unique_ptr<BareListener> bare;
  if (elsewhere) bare = std::make_unique<BareListener>();
  absl::StatusOr<Churn> churn =
      loaded ? Churn::Start(elsewhere ? bare->Target() : server.Target(),
                            churn_options)
             : absl::StatusOr<Churn>(absl::InvalidArgumentError("unloaded"));
  if (loaded) {
    if (!churn.ok()) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(),
                   churn.status().ToString().c_str());
      return 1;
    }
    absl::SleepFor(absl::Milliseconds(500));
  }
  const ipc::ListenerStats before = server.server().listener_stats();
  const ProbeResult probe = ProbeHonestClient(
      server.secret(), server.Target(), absl::Seconds(flags.seconds),
      absl::Milliseconds(flags.probe_ms));
  const ipc::ListenerStats after = server.server().listener_stats();
  ChurnCounters counters;
  if (loaded) {
    counters = churn->counters();
    absl::Status stopped = churn->Stop();
    if (!stopped.ok()) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(),
                   stopped.ToString().c_str());
    }
  }
  const double seconds = flags.seconds;
  std::printf(
      "%-18s %s | churn %.0f conn/s offered, %llu opened; listener per s: "
      "accepted %.0f, refused other-uid %.0f, busy %.0f, evicted %.0f\n",
      name.c_str(), probe.Summary().c_str(), loaded ? flags.rate : 0.0,
      static_cast<unsigned long long>(counters.opened),
      (after.accepted - before.accepted) / seconds,
      (after.refused_other_uid - before.refused_other_uid) / seconds,
      (after.refused_busy - before.refused_busy) / seconds,
      (after.evicted - before.evicted) / seconds);
  std::fflush(stdout);
  return 0;
}

}  // namespace
}  // namespace zen::hostile

int main(int argc, char** argv) {
  zen::hostile::Flags flags;
  for (int i = 1; i < argc; ++i) {
    if (!zen::hostile::ParseFlag(argv[i], &flags)) {
      std::fprintf(stderr,
                   "usage: churn_bench [--scenarios=a,b] [--rate=N] "
                   "[--processes=N] [--hold_ms=N] [--seconds=N] "
                   "[--probe_ms=N]\n");
      return 2;
    }
  }
  int status = 0;
  for (const std::string& scenario : flags.scenarios) {
    status |= zen::hostile::RunScenario(scenario, flags);
  }
  return status;
}
