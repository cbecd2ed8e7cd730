// Rate-limit decisions from the shared-memory zone
// (agent/model/rate_limit_zone.h) through a worker's RateLimiter (as a worker
// decides: RateLimiter::Decide over the zone), against a process-local
// RateLimiter and against the round trip to the parent (calculate_rate_limits
// on a generated stub, over an authenticated loopback channel, to an
// AgentServer in this process), from 1, 8 and 64 forked worker processes, on
// one key (every worker contends for one window) and on distinct keys (each
// worker its own 16 windows), with the workers (and the parent's server) split
// over both CPUs or all on CPU 0.
//
//   bazel run -c opt //bench:zone_compare -- [SECONDS_PER_ROW]
//
// Each zone worker decides as a worker does: in the zone, and by asking the
// parent (whose server counts in the zone too) when the zone is busy.
//
// Prints a Markdown table: decisions per second (all workers together),
// per CPU-second (the workers' user + system time, and for the zone and the
// round trip the parent's too), p50/p99/max of one decision as each worker
// timed it (10 ns buckets to 1 ms, 10 µs buckets to 100 ms), and for the zone
// the admissions against the most a 10 ms window of 100 allows in the run; then
// the zone's figures over the round trip's.
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "agent/agent_server.h"
#include "agent/model/rate_limit_zone.h"
#include "agent/model/rate_limiter.h"
#include "agent/model/runtime_settings.h"
#include "ipc/secret.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/channel.h"

namespace zen {
namespace {

// 10 ns each below 1 ms, then 10 µs each to 100 ms; the last is >= 100 ms.
constexpr int kFineBuckets = 100000;
constexpr int kBuckets = kFineBuckets + 9900;
constexpr int64_t kLimit = 100;
constexpr int64_t kWindowNs = 10000000;  // 10 ms

int Bucket(int64_t ns) {
  if (ns < int64_t{kFineBuckets} * 10) return static_cast<int>(ns / 10);
  const int64_t coarse = (ns - int64_t{kFineBuckets} * 10) / 10000;
  return coarse >= kBuckets - kFineBuckets ? kBuckets : kFineBuckets + coarse;
}

double BucketMicros(int bucket) {
  if (bucket < kFineBuckets) return bucket * 0.01;
  return 1000 + (bucket - kFineBuckets) * 10.0;
}

struct WorkerStats {
  uint64_t decisions;
  uint64_t admitted;
  uint64_t asked_parent;  // the zone could not decide: a round trip
  uint64_t failed;        // calls to the parent that failed
  int64_t cpu_ns;
  uint32_t histogram[kBuckets + 1];
};

int64_t Nanos(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// Pins this thread (and the threads it starts from now on) to `cpu`, or
// to both CPUs when `cpu` is -1.
void Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (cpu < 0) {
    CPU_SET(0, &set);
    CPU_SET(1, &set);
  } else {
    CPU_SET(cpu, &set);
  }
  sched_setaffinity(0, sizeof(set), &set);
}

std::string LimitConfig() {
  return absl::StrCat(R"({"endpoints": [{"method": "POST", "route": "/login",
          "rateLimiting": {"enabled": true, "maxRequests": )",
                      kLimit, R"(, "windowSizeInMS": 10}}]})");
}

RuntimeSettings LimitSettings() {
  absl::StatusOr<RuntimeSettings> settings =
      RuntimeSettings::Parse(LimitConfig(), "");
  if (!settings.ok()) {
    std::fprintf(stderr, "settings: %s\n",
                 settings.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(settings);
}

enum class Path { kZone, kLocal, kRpc };

const char* PathName(Path path) {
  switch (path) {
    case Path::kZone:
      return "zone";
    case Path::kLocal:
      return "local RateLimiter";
    case Path::kRpc:
      return "RPC to the parent";
  }
  return "?";
}

struct Row {
  Path path;
  bool one_key;
  bool split;
  int workers;
};

// What a worker needs to ask the parent.
struct ParentLink {
  const ipc::Secret* secret = nullptr;
  uint16_t port = 0;
};

// One worker's run until `end_ns`; returns false when it could not start.
bool RunWorker(const Row& row, int index, RateLimitZone* zone,
               const ParentLink& parent, const RuntimeSettings& settings,
               int64_t start_ns, int64_t end_ns, WorkerStats* stats) {
  RateLimiterOptions options;
  options.zone = zone;
  RateLimiter limiter(options);  // over the zone, or process-local
  std::string ips[16];
  agent::CalculateRateLimitsRequest requests[16];
  for (int k = 0; k < 16; ++k) {
    ips[k] =
        row.one_key ? "198.51.100.7" : absl::StrCat("10.", index, ".0.", k);
    requests[k].mutable_route()->set_method("POST");
    requests[k].mutable_route()->set_path("/login");
    requests[k].set_client_ip(ips[k]);
  }
  std::unique_ptr<rpc::Channel> channel;
  std::unique_ptr<agent::WorkerAgent::Stub> stub;
  if (row.path != Path::kLocal) {
    rpc::ChannelOptions channel_options;
    channel_options.connector.port = parent.port;
    absl::StatusOr<std::unique_ptr<rpc::Channel>> created =
        rpc::Channel::Create(parent.secret, channel_options);
    if (!created.ok()) {
      std::fprintf(stderr, "worker %d: %s\n", index,
                   created.status().ToString().c_str());
      return false;
    }
    channel = *std::move(created);
    stub = std::make_unique<agent::WorkerAgent::Stub>(channel.get());
  }
  while (Nanos(CLOCK_REALTIME) < start_ns) usleep(1000);
  const RouteView route("POST", "/login");
  RateLimitResult result;
  agent::CalculateRateLimitsResponse response;
  for (uint64_t i = 0;; ++i) {
    const int64_t start = Nanos(CLOCK_REALTIME);
    if (start >= end_ns) break;
    bool admitted = false;
    bool ask_parent = row.path == Path::kRpc;
    if (!ask_parent) {
      // As a worker decides: in the zone, else (busy) by asking the parent.
      const RateLimitPath path = limiter.Decide(
          route, ips[i % 16], std::nullopt, settings,
          absl::FromUnixNanos(start), ZoneFallback::kReport, &result);
      admitted = !result.throttled;
      if (path == RateLimitPath::kZoneBusy ||
          path == RateLimitPath::kZoneUnsupported) {
        ask_parent = true;
        ++stats->asked_parent;
      }
    }
    if (ask_parent) {
      response.Clear();
      if (stub->CalculateRateLimits(requests[i % 16], &response).ok()) {
        admitted = !response.throttled();
      } else {
        ++stats->failed;
      }
    }
    ++stats->histogram[Bucket(Nanos(CLOCK_REALTIME) - start)];
    ++stats->decisions;
    stats->admitted += admitted ? 1 : 0;
  }
  stats->cpu_ns = Nanos(CLOCK_PROCESS_CPUTIME_ID);
  if (channel != nullptr) channel->Stop();
  return true;
}

double Percentile(const std::vector<uint64_t>& histogram, uint64_t total,
                  double fraction) {
  const uint64_t rank = static_cast<uint64_t>(fraction * total);
  uint64_t seen = 0;
  for (size_t b = 0; b < histogram.size(); ++b) {
    seen += histogram[b];
    if (seen > rank) return BucketMicros(static_cast<int>(b));
  }
  return BucketMicros(kBuckets);
}

// What a row measured, for the ratios.
struct Figures {
  uint64_t decisions = 0;
  double per_cpu_second = 0;
  double p50 = 0;
  double p99 = 0;
};

Figures RunRow(const Row& row, double seconds,
               const RuntimeSettings& settings) {
  std::unique_ptr<RateLimitZone> zone;
  if (row.path == Path::kZone) {
    RateLimitZoneOptions options;
    options.bytes = size_t{4} << 20;
    zone = *RateLimitZone::Create(options);
  }
  // The parent's server, on the workers' CPUs: its threads inherit this.
  // With the zone, it counts in the zone too, as an Agent's does.
  absl::StatusOr<ipc::Secret> secret = ipc::Secret::Generate();
  std::unique_ptr<AgentServer> server;
  if (row.path != Path::kLocal) {
    Pin(row.split ? -1 : 0);
    AgentServerOptions server_options;
    server_options.rate_limiter.zone = zone.get();
    absl::StatusOr<std::unique_ptr<AgentServer>> created =
        AgentServer::Create(&*secret, server_options);
    if (!created.ok() || !(*created)->UpdateConfig(LimitConfig()).ok() ||
        !(*created)->Start().ok()) {
      std::fprintf(stderr, "parent server did not start\n");
      std::exit(1);
    }
    server = *std::move(created);
    Pin(-1);
  }
  const ParentLink parent{&*secret,
                          server != nullptr ? server->port() : uint16_t{0}};
  const size_t stats_bytes = sizeof(WorkerStats) * row.workers;
  auto* stats = static_cast<WorkerStats*>(
      mmap(nullptr, stats_bytes, PROT_READ | PROT_WRITE,
           MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  if (stats == MAP_FAILED) std::exit(1);
  // Every worker starts at the same moment, after the forks (and their
  // connections: 10 ms for each of them).
  const int64_t start_ns =
      Nanos(CLOCK_REALTIME) + 200000000 + int64_t{10000000} * row.workers;
  const int64_t end_ns = start_ns + static_cast<int64_t>(seconds * 1e9);
  std::vector<pid_t> pids;
  for (int w = 0; w < row.workers; ++w) {
    const pid_t pid = fork();
    if (pid == 0) {
      // As a real worker does: forget the parent's server.
      if (server != nullptr) server.release()->AbandonAfterFork();
      Pin(row.split ? w % 2 : 0);
      _exit(RunWorker(row, w, zone.get(), parent, settings, start_ns, end_ns,
                      &stats[w])
                ? 0
                : 1);
    }
    pids.push_back(pid);
  }
  // The parent's CPU time over the run is the server's (this thread waits).
  const int64_t parent_cpu_before = Nanos(CLOCK_PROCESS_CPUTIME_ID);
  bool failed = false;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    failed = failed || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  const int64_t parent_cpu_ns =
      Nanos(CLOCK_PROCESS_CPUTIME_ID) - parent_cpu_before;
  if (server != nullptr) server->Stop();
  if (failed) {
    std::fprintf(stderr, "a worker failed\n");
    std::exit(1);
  }
  std::vector<uint64_t> histogram(kBuckets + 1);
  uint64_t decisions = 0, admitted = 0, asked_parent = 0, failed_calls = 0;
  int64_t cpu_ns = row.path != Path::kLocal ? parent_cpu_ns : 0;
  int max_bucket = 0;
  for (int w = 0; w < row.workers; ++w) {
    decisions += stats[w].decisions;
    admitted += stats[w].admitted;
    asked_parent += stats[w].asked_parent;
    failed_calls += stats[w].failed;
    cpu_ns += stats[w].cpu_ns;
    for (int b = 0; b <= kBuckets; ++b) {
      histogram[b] += stats[w].histogram[b];
      if (stats[w].histogram[b] != 0 && b > max_bucket) max_bucket = b;
    }
  }
  const int64_t windows = (end_ns - start_ns) / kWindowNs + 1;
  const uint64_t keys = row.one_key ? 1 : 16 * row.workers;
  const Figures figures{decisions, decisions / (cpu_ns / 1e9),
                        Percentile(histogram, decisions, 0.50),
                        Percentile(histogram, decisions, 0.99)};
  std::string bound = "per process";
  if (row.path != Path::kLocal) {
    bound = absl::StrCat(
        admitted, " ≤ ", windows * kLimit * keys,
        asked_parent ? absl::StrCat(", asked the parent ", asked_parent) : "",
        failed_calls ? absl::StrCat(", failed calls ", failed_calls) : "");
  }
  if (zone != nullptr && zone->recoveries() != 0) {
    absl::StrAppend(&bound, ", takeovers ", zone->recoveries());
  }
  std::printf(
      "| %s | %s | %s | %d | %.0f | %.0f | %.2f | %.2f | %s%.0f | %s |\n",
      PathName(row.path), row.one_key ? "one key" : "distinct keys",
      row.split ? "split" : "shared", row.workers, decisions / seconds,
      figures.per_cpu_second, figures.p50, figures.p99,
      max_bucket == kBuckets ? "≥ " : "", BucketMicros(max_bucket),
      bound.c_str());
  std::fflush(stdout);
  munmap(stats, stats_bytes);
  return figures;
}

}  // namespace
}  // namespace zen

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  const zen::RuntimeSettings settings = zen::LimitSettings();
  std::printf(
      "| path | keys | placement | workers | decisions/s | per CPU-second | "
      "p50 (µs) | p99 (µs) | max (µs) | admitted ≤ bound |\n"
      "|---|---|---|---:|---:|---:|---:|---:|---:|---|\n");
  std::string ratios =
      "\n| keys | placement | workers | per CPU-second, zone / RPC | "
      "p50, RPC / zone | p99, RPC / zone |\n|---|---|---:|---:|---:|---:|\n";
  for (bool split : {true, false}) {
    for (bool one_key : {true, false}) {
      for (int workers : {1, 8, 64}) {
        zen::Figures zone, rpc;
        for (zen::Path path :
             {zen::Path::kZone, zen::Path::kLocal, zen::Path::kRpc}) {
          const zen::Figures figures =
              zen::RunRow({path, one_key, split, workers}, seconds, settings);
          if (path == zen::Path::kZone) zone = figures;
          if (path == zen::Path::kRpc) rpc = figures;
        }
        absl::StrAppend(&ratios, "| ", one_key ? "one key" : "distinct keys",
                        " | ", split ? "split" : "shared", " | ", workers);
        if (zone.decisions == 0 || rpc.decisions == 0) {
          // A row whose workers never ran (a loaded machine): no ratio.
          absl::StrAppend(&ratios, " | n/a | n/a | n/a |\n");
        } else {
          absl::StrAppend(
              &ratios, " | ",
              absl::StrFormat("%.1f", zone.per_cpu_second / rpc.per_cpu_second),
              " | ", absl::StrFormat("%.0f", rpc.p50 / zone.p50), " | ",
              absl::StrFormat("%.0f", rpc.p99 / zone.p99), " |\n");
        }
      }
    }
  }
  std::printf("%s", ratios.c_str());
  return 0;
}
