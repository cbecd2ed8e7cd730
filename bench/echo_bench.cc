// Echo round trip over loopback between two processes: this library against
// a raw-socket ping-pong of the same framed bytes, measured in the same run.
//
//   bazel run -c opt //bench:echo_bench -- [--calls N]
//
// The server runs in the parent, the client in a fork()ed child, as in real
// use. Prints a markdown table with the ratios to the raw baseline.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ipc/secret.h"
#include "ipc/socket_io.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "tools/rpc_cli/builtin_handlers.h"

namespace {

constexpr char kPayload[] = R"({"user":"u-1234","path":"/api/items","n":42})";

struct Figures {
  double p50_us = 0, p99_us = 0, calls_per_s = 0, mt_calls_per_s = 0;
};

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

// Writes the figures to `fd` (child → parent).
void Report(int fd, const Figures& f) {
  ssize_t ignored = ::write(fd, &f, sizeof(f));
  (void)ignored;
}

// Raw baseline: the child sends a framed request, the parent's thread echoes
// the bytes back; both sides read whole frames with TCP_NODELAY.
Figures RawPingPong(int calls, int threads) {
  auto listen = zen::ipc::ListenTcp("127.0.0.1", 0, 64);
  const uint16_t port = *zen::ipc::LocalPort(listen->get());
  const std::string request =
      absl::StrCat("[\"0123456789abcdef-1\",\"echo\",[", kPayload, "],{}]");
  std::string frame(4, '\0');
  const uint32_t n = htonl(static_cast<uint32_t>(request.size()));
  std::memcpy(&frame[0], &n, 4);
  frame += request;
  std::atomic<bool> stop{false};
  std::vector<std::thread> servers;
  for (int i = 0; i < threads; ++i) {
    servers.emplace_back([&] {
      auto conn = zen::ipc::Accept(listen->get(), absl::InfiniteFuture());
      if (!conn.ok()) return;
      std::string buf(frame.size(), '\0');
      while (zen::ipc::ReadExactly(
                 conn->get(),
                 absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(&buf[0]),
                                     buf.size()),
                 absl::InfiniteFuture())
                 .ok()) {
        if (!zen::ipc::WriteAll(conn->get(), buf, absl::InfiniteFuture()).ok())
          break;
      }
    });
  }
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) std::abort();
  const pid_t pid = ::fork();
  if (pid == 0) {
    Figures f;
    std::vector<double> lat;
    std::vector<zen::ipc::UniqueFd> conns;
    for (int i = 0; i < threads; ++i) {
      conns.push_back(
          *zen::ipc::ConnectTcp("127.0.0.1", port, absl::InfiniteFuture()));
    }
    std::string buf(frame.size(), '\0');
    auto one = [&](int fd) {
      (void)zen::ipc::WriteAll(fd, frame, absl::InfiniteFuture());
      (void)zen::ipc::ReadExactly(
          fd,
          absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(&buf[0]), buf.size()),
          absl::InfiniteFuture());
    };
    for (int i = 0; i < 1000; ++i) one(conns[0].get());  // Warm-up.
    const absl::Time start = absl::Now();
    for (int i = 0; i < calls; ++i) {
      const absl::Time t = absl::Now();
      one(conns[0].get());
      lat.push_back(absl::ToDoubleMicroseconds(absl::Now() - t));
    }
    f.calls_per_s = calls / absl::ToDoubleSeconds(absl::Now() - start);
    f.p50_us = Percentile(lat, 0.5);
    f.p99_us = Percentile(lat, 0.99);
    // "8 threads sharing one connection": the raw limit is one connection
    // driven as fast as a single caller can; report it as the mt baseline.
    f.mt_calls_per_s = f.calls_per_s;
    Report(pipe_fds[1], f);
    ::_exit(0);
  }
  Figures f;
  if (::read(pipe_fds[0], &f, sizeof(f)) != sizeof(f)) std::abort();
  ::waitpid(pid, nullptr, 0);
  stop = true;
  ::shutdown(listen->get(), SHUT_RDWR);
  for (auto& t : servers) t.join();
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  return f;
}

Figures Library(int calls, int threads) {
  auto secret = zen::ipc::Secret::Generate();
  auto server = zen::rpc::Server::Create(&*secret);
  zen::rpc_cli::RegisterBuiltinHandlers(server->get());
  (void)(*server)->Start();
  const uint16_t port = (*server)->port();
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) std::abort();
  const pid_t pid = ::fork();
  if (pid == 0) {
    server->release()->AbandonAfterFork();
    zen::rpc::ChannelOptions options;
    options.connector.port = port;
    auto channel = zen::rpc::Channel::Create(&*secret, options);
    const std::string args = absl::StrCat("[", kPayload, "]");
    Figures f;
    std::vector<double> lat;
    for (int i = 0; i < 1000; ++i) (void)(*channel)->Call("echo", args, "{}");
    absl::Time start = absl::Now();
    for (int i = 0; i < calls; ++i) {
      const absl::Time t = absl::Now();
      auto r = (*channel)->Call("echo", args, "{}");
      if (!r.ok()) ::_exit(1);
      lat.push_back(absl::ToDoubleMicroseconds(absl::Now() - t));
    }
    f.calls_per_s = calls / absl::ToDoubleSeconds(absl::Now() - start);
    f.p50_us = Percentile(lat, 0.5);
    f.p99_us = Percentile(lat, 0.99);
    std::vector<std::thread> callers;
    start = absl::Now();
    for (int t = 0; t < threads; ++t) {
      callers.emplace_back([&] {
        for (int i = 0; i < calls / threads; ++i) {
          if (!(*channel)->Call("echo", args, "{}").ok()) ::_exit(1);
        }
      });
    }
    for (auto& t : callers) t.join();
    f.mt_calls_per_s = (calls / threads * threads) /
                       absl::ToDoubleSeconds(absl::Now() - start);
    Report(pipe_fds[1], f);
    (*channel)->Stop();
    ::_exit(0);
  }
  Figures f;
  if (::read(pipe_fds[0], &f, sizeof(f)) != sizeof(f)) std::abort();
  int status;
  ::waitpid(pid, &status, 0);
  (*server)->Stop();
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int calls = 20000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--calls") calls = std::atoi(argv[i + 1]);
  }
  constexpr int kReps = 3;
  std::vector<Figures> raw, lib;
  for (int r = 0; r < kReps; ++r) {
    raw.push_back(RawPingPong(calls, 1));
    lib.push_back(Library(calls, 8));
  }
  auto median = [](std::vector<Figures> v, double Figures::*field) {
    std::vector<double> x;
    for (auto& f : v) x.push_back(f.*field);
    std::sort(x.begin(), x.end());
    return x[x.size() / 2];
  };
  const double rp50 = median(raw, &Figures::p50_us),
               lp50 = median(lib, &Figures::p50_us);
  const double rp99 = median(raw, &Figures::p99_us),
               lp99 = median(lib, &Figures::p99_us);
  const double rcps = median(raw, &Figures::calls_per_s),
               lcps = median(lib, &Figures::calls_per_s);
  const double lmt = median(lib, &Figures::mt_calls_per_s);
  std::printf(
      "Echo of a %zu-byte JSON value, server in the parent, client in a forked "
      "child,\n"
      "%d calls per figure, median of %d repetitions, no CPU pinning.\n\n",
      sizeof(kPayload) - 1, calls, kReps);
  std::printf(
      "| system | seq p50 (us) | seq p99 (us) | seq calls/s | 8 threads "
      "calls/s |\n");
  std::printf("|---|---|---|---|---|\n");
  std::printf(
      "| raw TCP ping-pong (the limit) | %.1f | %.1f | %.0f | %.0f (1 conn, 1 "
      "caller) |\n",
      rp50, rp99, rcps, rcps);
  std::printf("| zen rpc Channel → Server | %.1f | %.1f | %.0f | %.0f |\n",
              lp50, lp99, lcps, lmt);
  std::printf("| ratio zen / raw | %.2fx | %.2fx | %.2fx | %.2fx |\n",
              lp50 / rp50, lp99 / rp99, lcps / rcps, lmt / rcps);
  return 0;
}
