// Many forked children calling the parent at once, each on its own
// connection: aggregate calls/s, p99 latency, errors, and the parent's RSS
// growth and thread count with every connection open. One JSON line:
//
//   scale_compare --system=zen|raw --children=K [--placement=split]
//                 [--total_calls=20000] [--min_calls_per_child=200]
//
// zen: rpc::Server with the generated echo Service; each child makes an
// rpc::Channel and calls through a generated Stub. raw: the limit, the
// thread-per-connection raw echo server of bench/raw_echo.h, each child a
// blocking ping-pong client.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/echo_service.h"
#include "bench/raw_echo.h"
#include "ipc/secret.h"
#include "rpc/channel.h"
#include "rpc/server.h"

namespace zen::bench {
namespace {

constexpr int kWarmupCalls = 50;

struct ChildFigures {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t errors = 0;
  int64_t connected = 0;
  double cpu_s = 0;  // This child's process CPU time over its timed calls.
};

// The barriers every child and the parent go through, in order: each child
// connects and warms up (ready), all start together (go), each reports
// (done), and they disconnect only once the parent has measured itself with
// every connection open (leave).
struct Barriers {
  Pipe ready, go, done, leave;
};

// One child's life. `connect` returns the call to make, or nullptr if it
// could not connect.
int ChildMain(int calls, Placement placement, Barriers* b,
              ChildFigures* figures, float* latency_us,
              const std::function<std::function<bool()>()>& connect) {
  PinToCpu(ClientCpu(placement));
  std::function<bool()> call = connect();
  figures->connected = call != nullptr;
  if (call == nullptr) {
    b->ready.Post();
    return 1;
  }
  for (int i = 0; i < kWarmupCalls; ++i) {
    if (!call()) ++figures->errors;
  }
  b->ready.Post();
  if (!b->go.Wait()) return 1;
  const double cpu_start = ProcessCpuSeconds();
  figures->start_ns = NowNs();
  for (int i = 0; i < calls; ++i) {
    const int64_t t = NowNs();
    if (!call()) ++figures->errors;
    latency_us[i] = static_cast<float>((NowNs() - t) * 1e-3);
  }
  figures->end_ns = NowNs();
  figures->cpu_s = ProcessCpuSeconds() - cpu_start;
  b->done.Post();
  b->leave.Wait();
  return 0;
}

int Main(int argc, char** argv) {
  const Flags flags(argc, argv);
  const std::string system = flags.GetString("system", "zen");
  const int children = static_cast<int>(flags.GetInt("children", 8));
  const Placement placement = flags.GetPlacement();
  const int calls =
      static_cast<int>(std::max(flags.GetInt("min_calls_per_child", 200),
                                flags.GetInt("total_calls", 20000) / children));
  PinToCpu(kServerCpu);

  absl::StatusOr<ipc::Secret> secret = ipc::Secret::Generate();
  if (!secret.ok()) return 1;
  std::unique_ptr<rpc::Server> server;
  ZenEchoService service;
  RawServer raw_server;
  uint16_t port = 0;
  if (system == "zen") {
    rpc::ServerOptions options;
    absl::StatusOr<std::unique_ptr<rpc::Server>> created =
        rpc::Server::Create(&*secret, options);
    if (!created.ok()) return 1;
    server = std::move(*created);
    service.RegisterOn(server.get());
    if (!server->Start().ok()) return 1;
    port = server->port();
  } else if (system == "raw") {
    port = raw_server.ListenTcp();
  } else {
    std::fprintf(stderr, "unknown --system=%s\n", system.c_str());
    return 2;
  }
  const int64_t rss_before = RssKiB();
  const int64_t threads_before = ThreadCount();

  Barriers barriers;
  SharedArray<ChildFigures> figures(static_cast<size_t>(children));
  SharedArray<float> latency(static_cast<size_t>(children) * calls);
  const EchoMessage request = PayloadMessage();
  EchoMessage response;  // Each child its own copy, after the fork.
  std::vector<pid_t> pids;
  for (int c = 0; c < children; ++c) {
    pids.push_back(ForkChild([&, c] {
      // Kept alive until ChildMain returns (the child then _exits).
      std::unique_ptr<rpc::Channel> channel;
      std::unique_ptr<EchoService::Stub> stub;
      std::unique_ptr<RawClient> raw;
      int raw_fd = -1;
      if (server != nullptr) server.release()->AbandonAfterFork();
      return ChildMain(calls, placement, &barriers, &figures[c],
                       &latency[c * calls], [&]() -> std::function<bool()> {
                         if (system == "raw") {
                           raw_fd = RawConnect(port);
                           if (raw_fd < 0) return nullptr;
                           raw = std::make_unique<RawClient>(raw_fd);
                           return [&] { return raw->Call(); };
                         }
                         rpc::ChannelOptions options;
                         options.connector.port = port;
                         absl::StatusOr<std::unique_ptr<rpc::Channel>> ch =
                             rpc::Channel::Create(&*secret, options);
                         if (!ch.ok()) return nullptr;
                         channel = std::move(*ch);
                         stub =
                             std::make_unique<EchoService::Stub>(channel.get());
                         // The form that decodes into a reused response,
                         // as echo_compare calls it.
                         return [&] {
                           return stub->Echo(request, &response).ok() &&
                                  response.n() == kPayloadN;
                         };
                       });
    }));
  }
  barriers.ready.Wait(children);
  const double server_cpu_start = ProcessCpuSeconds();
  barriers.go.Post(children);
  barriers.done.Wait(children);
  const double server_cpu_s = ProcessCpuSeconds() - server_cpu_start;
  // Every connection is open and has carried its calls.
  const int64_t rss_peak = RssKiB();
  const int64_t threads_peak = ThreadCount();
  barriers.leave.Post(children);
  int failed_children = 0;
  for (pid_t pid : pids) failed_children += Reap(pid) ? 0 : 1;
  // Handlers that outran the server's inline budget (their connection's
  // reading then moves to a newly started thread).
  const int64_t reliefs =
      server != nullptr ? static_cast<int64_t>(server->stats().reliefs) : 0;
  if (server != nullptr) server->Stop();
  raw_server.Stop();

  int64_t first = std::numeric_limits<int64_t>::max(), last = 0, errors = 0;
  int64_t connected = 0;
  double client_cpu_s = 0;
  for (int c = 0; c < children; ++c) {
    client_cpu_s += figures[c].cpu_s;
    first = std::min(first, figures[c].start_ns);
    last = std::max(last, figures[c].end_ns);
    errors += figures[c].errors;
    connected += figures[c].connected;
  }
  std::vector<double> all(latency.data(), latency.data() + latency.size());
  const int64_t total = int64_t{children} * calls;
  JsonLine("scale")
      .Add("system", system)
      .Add("placement", PlacementName(placement))
      .Add("children", children)
      .Add("calls", total)
      .Add("calls_per_s", total / ((last - first) * 1e-9))
      .Add("p50_us", Percentile(all, 0.5))
      .Add("p99_us", Percentile(all, 0.99))
      .Add("errors", errors + (children - connected) + failed_children)
      .Add("server_cpu_us_per_call", server_cpu_s * 1e6 / total)
      .Add("client_cpu_us_per_call", client_cpu_s * 1e6 / total)
      .Add("rss_before_kib", rss_before)
      .Add("rss_peak_kib", rss_peak)
      .Add("rss_per_conn_kib",
           static_cast<double>(rss_peak - rss_before) / children)
      .Add("threads_before", threads_before)
      .Add("threads_peak", threads_peak)
      .Add("server_reliefs", reliefs)
      .Print();
  return 0;
}

}  // namespace
}  // namespace zen::bench

int main(int argc, char** argv) { return zen::bench::Main(argc, argv); }
