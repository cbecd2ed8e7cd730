// Rate-limit decisions from the shared-memory zone (agent/rate_limit_zone.h)
// against a process-local RateLimiter, from 1, 8 and 64 forked worker
// processes, on one key (every worker contends for one window) and on
// distinct keys (each worker its own 16 windows), with the workers split
// over both CPUs or all on CPU 0.
//
//   bazel run -c opt //bench:zone_compare -- [SECONDS_PER_ROW]
//
// Prints a Markdown table: decisions per second (all workers together),
// per CPU-second (the workers' user + system time), p50/p99/max of one
// decision as each worker timed it (10 ns buckets), and for the zone the
// admissions against the most a 10 ms window of 100 allows in the run.
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
#include "absl/time/time.h"
#include "agent/rate_limit_zone.h"
#include "agent/rate_limiter.h"
#include "agent/runtime_settings.h"

namespace zen {
namespace {

constexpr int kBuckets = 100000;  // 10 ns each, the last one is >= 1 ms
constexpr int64_t kLimit = 100;
constexpr int64_t kWindowNs = 10000000;  // 10 ms

struct WorkerStats {
  uint64_t decisions;
  uint64_t admitted;
  uint64_t busy;  // zone answers other than kCounted
  int64_t cpu_ns;
  uint32_t histogram[kBuckets + 1];
};

int64_t Nanos(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

void Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof(set), &set);
}

RuntimeSettings LimitSettings() {
  absl::StatusOr<RuntimeSettings> settings = RuntimeSettings::Parse(
      absl::StrCat(R"({"endpoints": [{"method": "POST", "route": "/login",
          "rateLimiting": {"enabled": true, "maxRequests": )",
                   kLimit, R"(, "windowSizeInMS": 10}}]})"),
      "");
  if (!settings.ok()) {
    std::fprintf(stderr, "settings: %s\n",
                 settings.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(settings);
}

struct Row {
  bool zone;
  bool one_key;
  bool split;
  int workers;
};

void RunWorker(const Row& row, int index, RateLimitZone* zone,
               const RuntimeSettings& settings, int64_t end_ns,
               WorkerStats* stats) {
  RateLimiter local;
  std::string keys[16];
  std::string ips[16];
  for (int k = 0; k < 16; ++k) {
    keys[k] = row.one_key
                  ? std::string("POST\0/login\0ip\0198.51.100.7", 27)
                  : absl::StrCat("POST", std::string(1, '\0'), "/login",
                                 std::string(1, '\0'), "ip",
                                 std::string(1, '\0'), "10.", index, ".0.", k);
    ips[k] =
        row.one_key ? "198.51.100.7" : absl::StrCat("10.", index, ".0.", k);
  }
  const RouteKey route{"POST", "/login"};
  RateLimitResult result;
  for (uint64_t i = 0;; ++i) {
    const int64_t start = Nanos(CLOCK_REALTIME);
    if (start >= end_ns) break;
    bool admitted = false;
    if (zone != nullptr) {
      ZoneCount count;
      if (zone->Count(keys[i % 16], kWindowNs, kLimit, start, &count) ==
          ZoneOutcome::kCounted) {
        admitted = !count.throttled;
      } else {
        ++stats->busy;
      }
    } else {
      local.CheckInto(route, ips[i % 16], std::nullopt, settings,
                      absl::FromUnixNanos(start), &result);
      admitted = !result.throttled;
    }
    const int64_t took = Nanos(CLOCK_REALTIME) - start;
    ++stats->histogram[took >= int64_t{kBuckets} * 10 ? kBuckets : took / 10];
    ++stats->decisions;
    stats->admitted += admitted ? 1 : 0;
  }
  stats->cpu_ns = Nanos(CLOCK_PROCESS_CPUTIME_ID);
}

double Percentile(const std::vector<uint64_t>& histogram, uint64_t total,
                  double fraction) {
  const uint64_t rank = static_cast<uint64_t>(fraction * total);
  uint64_t seen = 0;
  for (size_t b = 0; b < histogram.size(); ++b) {
    seen += histogram[b];
    if (seen > rank) return b * 0.01;  // µs
  }
  return kBuckets * 0.01;
}

void RunRow(const Row& row, double seconds, const RuntimeSettings& settings) {
  std::unique_ptr<RateLimitZone> zone;
  if (row.zone) {
    RateLimitZoneOptions options;
    options.bytes = size_t{4} << 20;
    zone = *RateLimitZone::Create(options);
  }
  const size_t stats_bytes = sizeof(WorkerStats) * row.workers;
  auto* stats = static_cast<WorkerStats*>(
      mmap(nullptr, stats_bytes, PROT_READ | PROT_WRITE,
           MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  if (stats == MAP_FAILED) std::exit(1);
  // Every worker starts at the same moment, 200 ms after the forks.
  const int64_t start_ns = Nanos(CLOCK_REALTIME) + 200000000;
  const int64_t end_ns = start_ns + static_cast<int64_t>(seconds * 1e9);
  std::vector<pid_t> pids;
  for (int w = 0; w < row.workers; ++w) {
    const pid_t pid = fork();
    if (pid == 0) {
      Pin(row.split ? w % 2 : 0);
      while (Nanos(CLOCK_REALTIME) < start_ns) usleep(1000);
      RunWorker(row, w, zone.get(), settings, end_ns, &stats[w]);
      _exit(0);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) waitpid(pid, nullptr, 0);
  std::vector<uint64_t> histogram(kBuckets + 1);
  uint64_t decisions = 0, admitted = 0, busy = 0;
  int64_t cpu_ns = 0;
  int max_bucket = 0;
  for (int w = 0; w < row.workers; ++w) {
    decisions += stats[w].decisions;
    admitted += stats[w].admitted;
    busy += stats[w].busy;
    cpu_ns += stats[w].cpu_ns;
    for (int b = 0; b <= kBuckets; ++b) {
      histogram[b] += stats[w].histogram[b];
      if (stats[w].histogram[b] != 0 && b > max_bucket) max_bucket = b;
    }
  }
  const int64_t windows = (end_ns - start_ns) / kWindowNs + 1;
  const uint64_t keys = row.one_key ? 1 : 16 * row.workers;
  std::printf(
      "| %s | %s | %s | %d | %.0f | %.0f | %.2f | %.2f | %s%.0f | %s |\n",
      row.zone ? "zone" : "local RateLimiter",
      row.one_key ? "one key" : "distinct keys", row.split ? "split" : "shared",
      row.workers, decisions / seconds, decisions / (cpu_ns / 1e9),
      Percentile(histogram, decisions, 0.50),
      Percentile(histogram, decisions, 0.99),
      max_bucket == kBuckets ? "≥ " : "", max_bucket * 0.01,
      row.zone
          ? absl::StrCat(admitted, " ≤ ", windows * kLimit * keys,
                         busy ? absl::StrCat(", busy ", busy) : "",
                         zone->recoveries() != 0
                             ? absl::StrCat(", takeovers ", zone->recoveries())
                             : "")
                .c_str()
          : "per process");
  std::fflush(stdout);
  munmap(stats, stats_bytes);
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
  for (bool split : {true, false}) {
    for (bool one_key : {true, false}) {
      for (int workers : {1, 8, 64}) {
        for (bool zone : {true, false}) {
          zen::RunRow({zone, one_key, split, workers}, seconds, settings);
        }
      }
    }
  }
  return 0;
}
