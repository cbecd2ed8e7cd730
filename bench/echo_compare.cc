// Echo of a ~40-byte JSON value between a server process and a fork()ed
// client process, for one system and one CPU placement. Prints one JSON line
// (bench/report.py runs it for every system and repetition):
//
//   echo_compare --system=raw_tcp|raw_unix|zen|zen_spin|zen_unix|
//                         zen_rate_limits|zen_rate_limits_wildcard
//                --placement=split|shared
//                [--calls=N] [--warmup=N] [--threads=8] [--mt_calls=N]
//
// raw_tcp / raw_unix: the limit (bench/raw_echo.h), the library's exact
// bytes over blocking sockets. zen: a generated EchoService::Stub calling a
// generated Service through rpc::Channel and rpc::Server over loopback TCP;
// zen_unix: the same over the opt-in Unix-domain transport (compare it with
// raw_unix). zen_rate_limits: the agent's own hot call instead of the echo
// (bench/rate_limits_call.h); zen_rate_limits_wildcard: the same for a route
// only a wildcard endpoint matches.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "bench/bench_util.h"
#include "bench/echo_service.h"
#include "bench/rate_limits_call.h"
#include "bench/raw_echo.h"
#include "ipc/options.h"
#include "ipc/secret.h"
#include "rpc/channel.h"
#include "rpc/server.h"

namespace zen::bench {
namespace {

struct Options {
  Placement placement;
  int warmup;
  int calls;
  int threads;
  int mt_calls;
};

// The client half shared by both raw systems: sequential ping-pong on `fd`,
// then `threads` threads multiplexed on the same connection.
EchoFigures RawClientRun(int fd, const Options& o) {
  RawClient client(fd);
  EchoFigures f =
      RunSequential([&] { return client.Call(); }, o.warmup, o.calls);
  if (o.threads > 0) {
    RawMux mux(fd, o.threads);
    RunThreaded([&](int t) { return mux.Call(t); }, o.threads, o.mt_calls,
                o.warmup, &f);
  }
  return f;
}

int RunRawTcp(const Options& o, EchoFigures* out) {
  RawServer server;
  const uint16_t port = server.ListenTcp();
  const pid_t pid = ForkChild([&] {
    PinToCpu(ClientCpu(o.placement));
    const int fd = RawConnect(port);
    if (fd < 0) return 1;
    *out = RawClientRun(fd, o);
    ::close(fd);
    return 0;
  });
  const bool ok = Reap(pid);
  server.Stop();
  return ok ? 0 : 1;
}

int RunRawUnix(const Options& o, EchoFigures* out) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return 1;
  const pid_t pid = ForkChild([&] {
    ::close(fds[0]);
    PinToCpu(ClientCpu(o.placement));
    *out = RawClientRun(fds[1], o);
    ::close(fds[1]);
    return 0;
  });
  ::close(fds[1]);
  RawServer server;
  server.Serve(fds[0]);
  const bool ok = Reap(pid);
  server.Stop();
  return ok ? 0 : 1;
}

// zen_spin: StreamOptions::spin_before_block on both sides, this long.
constexpr absl::Duration kSpin = absl::Microseconds(50);

// `spin`: StreamOptions::spin_before_block on both sides. `transport`: the
// listener's and the connector's.
int RunZen(const Options& o, absl::Duration spin, ipc::Transport transport,
           EchoFigures* out) {
  absl::StatusOr<ipc::Secret> secret = ipc::Secret::Generate();
  if (!secret.ok()) return 1;
  rpc::ServerOptions server_options;
  server_options.listener.stream.spin_before_block = spin;
  server_options.listener.transport = transport;
  absl::StatusOr<std::unique_ptr<rpc::Server>> server =
      rpc::Server::Create(&*secret, server_options);
  if (!server.ok()) return 1;
  ZenEchoService service;
  service.RegisterOn(server->get());
  if (!(*server)->Start().ok()) return 1;
  const uint16_t port = (*server)->port();
  const std::string unix_path = (*server)->unix_path();
  const pid_t pid = ForkChild([&] {
    // As a real child does: forget the parent's server, connect lazily.
    server->release()->AbandonAfterFork();
    PinToCpu(ClientCpu(o.placement));
    rpc::ChannelOptions options;
    options.connector.transport = transport;
    options.connector.port = port;
    options.connector.unix_path = unix_path;
    options.connector.stream.spin_before_block = spin;
    absl::StatusOr<std::unique_ptr<rpc::Channel>> channel =
        rpc::Channel::Create(&*secret, options);
    if (!channel.ok()) {
      std::fprintf(stderr, "zen: %s\n", channel.status().ToString().c_str());
      return 1;
    }
    EchoService::Stub stub(channel->get());
    const EchoMessage request = PayloadMessage();
    // Per thread, reused across calls, as a caller that cares does (the
    // StatusOr form allocates the response's strings on every call).
    auto call = [&] {
      thread_local EchoMessage response;
      return stub.Echo(request, &response).ok() && response.n() == kPayloadN;
    };
    *out = RunSequential(call, o.warmup, o.calls);
    if (o.threads > 0) {
      RunThreaded([&](int) { return call(); }, o.threads, o.mt_calls, o.warmup,
                  out);
    }
    (*channel)->Stop();
    return 0;
  });
  const bool ok = Reap(pid);
  (*server)->Stop();
  return ok ? 0 : 1;
}

int Main(int argc, char** argv) {
  const Flags flags(argc, argv);
  const std::string system = flags.GetString("system", "zen");
  Options o;
  o.placement = flags.GetPlacement();
  o.warmup = static_cast<int>(flags.GetInt("warmup", 2000));
  o.calls = static_cast<int>(flags.GetInt("calls", 10000));
  o.threads = static_cast<int>(flags.GetInt("threads", 8));
  o.mt_calls = static_cast<int>(flags.GetInt("mt_calls", 16000));
  PinToCpu(kServerCpu);
  SharedArray<EchoFigures> out(1);
  int rc;
  if (system == "raw_tcp") {
    rc = RunRawTcp(o, &out[0]);
  } else if (system == "raw_unix") {
    rc = RunRawUnix(o, &out[0]);
  } else if (system == "zen") {
    rc = RunZen(o, absl::ZeroDuration(), ipc::Transport::kTcp, &out[0]);
  } else if (system == "zen_spin") {
    rc = RunZen(o, kSpin, ipc::Transport::kTcp, &out[0]);
  } else if (system == "zen_unix") {
    rc = RunZen(o, absl::ZeroDuration(), ipc::Transport::kUnix, &out[0]);
  } else if (system == "zen_rate_limits" ||
             system == "zen_rate_limits_wildcard") {
    rc =
        RunRateLimitsCall(o.placement, o.warmup, o.calls, o.threads, o.mt_calls,
                          system == "zen_rate_limits_wildcard", &out[0]);
  } else {
    std::fprintf(stderr, "unknown --system=%s\n", system.c_str());
    return 2;
  }
  if (rc != 0) return rc;
  JsonLine("echo")
      .Add("system", system)
      .Add("placement", PlacementName(o.placement))
      .Add("threads", o.threads)
      .AddEcho(out[0])
      .Print();
  return 0;
}

}  // namespace
}  // namespace zen::bench

int main(int argc, char** argv) { return zen::bench::Main(argc, argv); }
