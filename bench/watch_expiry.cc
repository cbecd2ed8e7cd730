// What a short watch_settings call costs the parent while many others are
// parked: a parent AgentServer, a fork()ed "flood" process holding
// --parked watches (wait 60 s, across 64 connections), and a fork()ed
// prober making --calls watches of wait_ms=1 one after another, each
// answered `{}` when it expires. Reports the parent's CPU (user + system,
// every thread) per short watch, with the watches parked and with none, and
// their ratio. Prints one JSON line:
//
//   watch_expiry [--parked=16000] [--calls=2000]
//
// Expiring a watch is O(log n) in those parked: the ratio should stay near
// 1 (it was 3.9 when every expiry rescanned them all).
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "agent/agent_server.h"
#include "base/clock.h"
#include "bench/bench_util.h"
#include "ipc/connector.h"
#include "ipc/secret.h"
#include "ipc/socket_stream.h"

namespace zen::bench {
namespace {

constexpr int kFloodConnections = 64;

std::unique_ptr<ipc::SocketStream> Connect(const ipc::Secret& secret,
                                           uint16_t port) {
  ipc::ConnectorOptions connect;
  connect.port = port;
  auto stream = ipc::Connect(secret, connect, zen::Now() + absl::Seconds(10));
  return stream.ok() ? std::move(*stream) : nullptr;
}

bool Send(ipc::SocketStream* stream, const std::string& request) {
  absl::string_view body = request;
  return stream->Write({&body, 1}, zen::Now() + absl::Seconds(10)).ok();
}

// The flood: `parked` long watches over kFloodConnections connections, held
// until the process is killed.
int Flood(const ipc::Secret& secret, uint16_t port, int parked) {
  std::vector<std::unique_ptr<ipc::SocketStream>> streams;
  for (int c = 0; c < kFloodConnections; ++c) {
    streams.push_back(Connect(secret, port));
    if (streams.back() == nullptr) return 1;
  }
  for (int i = 0; i < parked; ++i) {
    if (!Send(streams[i % kFloodConnections].get(),
              absl::StrCat(R"(["p)", i,
                           R"(","watch_settings",[0,0,60000],{}])"))) {
      return 1;
    }
  }
  ::pause();
  return 0;
}

// The prober: `calls` watches of 1 ms, one at a time.
int Probe(const ipc::Secret& secret, uint16_t port, int calls) {
  std::unique_ptr<ipc::SocketStream> stream = Connect(secret, port);
  if (stream == nullptr) return 1;
  for (int i = 0; i < calls; ++i) {
    if (!Send(stream.get(),
              absl::StrCat(R"(["s)", i, R"(","watch_settings",[0,0,1],{}])"))) {
      return 1;
    }
    auto answer = stream->Read(zen::Now() + absl::Seconds(10));
    if (!answer.ok() || answer->body.find("{}") == absl::string_view::npos) {
      return 1;
    }
  }
  return 0;
}

// The parent's CPU seconds per short watch with `parked` others parked.
double CpuPerShortWatch(const ipc::Secret& secret, int parked, int calls) {
  AgentServerOptions options;
  // Room for the flood on its 64 connections (the in-flight cap per
  // connection is 256).
  options.settings_watch.max_per_connection = 256;
  auto server = AgentServer::Create(&secret, options);
  if (!server.ok() || !(*server)->Start().ok()) return -1;
  const uint16_t port = (*server)->port();
  pid_t flood = -1;
  if (parked > 0) {
    flood = ForkChild([&] { return Flood(secret, port, parked); });
    const absl::Time give_up = zen::Now() + absl::Seconds(60);
    while ((*server)->settings_watches_waiting() <
           static_cast<size_t>(parked)) {
      if (zen::Now() > give_up) return -1;
      zen::SleepFor(absl::Milliseconds(10));
    }
  }
  const double before = ProcessCpuSeconds();
  const pid_t prober = ForkChild([&] { return Probe(secret, port, calls); });
  const bool probed = Reap(prober);
  const double cpu = ProcessCpuSeconds() - before;
  if (flood > 0) {
    ::kill(flood, SIGKILL);
    Reap(flood);
  }
  (*server)->Stop();
  return probed ? cpu / calls : -1;
}

int Main(int argc, char** argv) {
  const Flags flags(argc, argv);
  const int parked = static_cast<int>(flags.GetInt("parked", 16000));
  const int calls = static_cast<int>(flags.GetInt("calls", 2000));
  const ipc::Secret secret = *ipc::Secret::Generate();
  const double none = CpuPerShortWatch(secret, 0, calls);
  const double full = CpuPerShortWatch(secret, parked, calls);
  if (none <= 0 || full <= 0) {
    std::fprintf(stderr, "watch_expiry: a run failed\n");
    return 1;
  }
  std::printf(
      "{\"bench\":\"watch_expiry\",\"parked\":%d,\"calls\":%d,"
      "\"cpu_us_per_watch_none_parked\":%.1f,"
      "\"cpu_us_per_watch_parked\":%.1f,\"ratio\":%.2f}\n",
      parked, calls, none * 1e6, full * 1e6, full / none);
  return 0;
}

}  // namespace
}  // namespace zen::bench

int main(int argc, char** argv) { return zen::bench::Main(argc, argv); }
