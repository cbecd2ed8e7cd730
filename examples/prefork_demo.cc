// A parent and its forked workers: the parent runs an RPC server on
// loopback; each worker, after fork(), connects with the secret it inherited,
// proves it is a child, and calls the parent. Prints a short report and
// exits 0 only if every worker was served and an impostor was refused.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/clock.h"
#include "ipc/secret.h"
#include "rpc/channel.h"
#include "rpc/server.h"

namespace {

constexpr int kWorkers = 4;
constexpr int kCallsPerWorker = 2000;

// In a worker: connect, call `count` many times, report latency.
int WorkerMain(const zen::ipc::Secret& secret, uint16_t port, int worker) {
  zen::rpc::ChannelOptions options;
  options.connector.port = port;
  auto channel = zen::rpc::Channel::Create(&secret, options);
  if (!channel.ok()) {
    std::fprintf(stderr, "worker %d: %s\n", worker,
                 channel.status().ToString().c_str());
    return 1;
  }
  const absl::Time start = zen::Now();
  for (int i = 0; i < kCallsPerWorker; ++i) {
    auto result = (*channel)->Call("count", "[]",
                                   absl::StrCat("{\"worker\":", worker, "}"));
    if (!result.ok()) {
      std::fprintf(stderr, "worker %d: %s\n", worker,
                   result.status().ToString().c_str());
      return 1;
    }
  }
  const absl::Duration took = zen::Now() - start;
  std::printf("worker %d (pid %d): %d calls, %.1f us per call\n", worker,
              static_cast<int>(::getpid()), kCallsPerWorker,
              absl::ToDoubleMicroseconds(took) / kCallsPerWorker);
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main() {
  auto secret = zen::ipc::Secret::Generate();
  if (!secret.ok()) return 1;
  auto server = zen::rpc::Server::Create(&*secret);
  if (!server.ok()) return 1;
  std::atomic<int> served{0};
  (*server)->RegisterHandler("count", [&served](zen::rpc::ServerCall& call) {
    const int total = served.fetch_add(1) + 1;
    call.Respond(absl::StrCat(total));
    return absl::OkStatus();
  });
  if (!(*server)->Start().ok()) return 1;
  const uint16_t port = (*server)->port();
  std::printf("parent (pid %d): agent server on 127.0.0.1:%u\n",
              static_cast<int>(::getpid()), static_cast<unsigned>(port));
  std::fflush(stdout);

  std::vector<pid_t> workers;
  for (int w = 0; w < kWorkers; ++w) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      // The inherited server belongs to the parent: close our copies of its
      // sockets (never shut them down) and leak the object.
      server->release()->AbandonAfterFork();
      ::_exit(WorkerMain(*secret, port, w));
    }
    workers.push_back(pid);
  }
  int failed = 0;
  for (pid_t pid : workers) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ++failed;
      std::printf("worker pid %d: %s %d\n", static_cast<int>(pid),
                  WIFEXITED(status) ? "exit" : "signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
  }

  // A process that did not inherit the secret cannot get in.
  auto impostor_secret = zen::ipc::Secret::Generate();
  zen::rpc::ChannelOptions options;
  options.connector.port = port;
  options.reconnect = false;
  auto impostor = zen::rpc::Channel::Create(&*impostor_secret, options);
  const bool impostor_refused = !impostor.ok();

  (*server)->Stop();
  const int expected = kWorkers * kCallsPerWorker;
  std::printf(
      "parent: %d calls served (expected %d), %d workers failed, "
      "impostor %s\n",
      served.load(), expected, failed,
      impostor_refused ? "refused" : "ACCEPTED");
  const bool ok = served.load() == expected && failed == 0 && impostor_refused;
  std::printf("%s\n", ok ? "demo: OK" : "demo: FAILED");
  return ok ? 0 : 1;
}
