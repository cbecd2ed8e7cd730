// How fast a settings change reaches every worker: a parent AgentServer,
// `workers` fork()ed workers each running an AgentClient, and `updates`
// calls of AgentServer::UpdateConfig. For each update, the time from the
// call to the moment the last worker's client had applied it (its
// on_settings callback ran), read from shared memory. Also the parent's CPU
// while every worker waits and nothing changes. Prints one JSON line:
//
//   settings_propagation --workers=64 [--updates=100] [--mode=watch|poll]
//                        [--poll_ms=1000] [--idle_seconds=2]
//
// mode=watch (the default client: one watch_settings call outstanding per
// worker); mode=poll (updated_settings every --poll_ms, as with a
// reference parent; the reference's own interval is 10 s).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "agent/agent_client.h"
#include "agent/agent_server.h"
#include "bench/bench_util.h"
#include "ipc/secret.h"

namespace zen::bench {
namespace {

// What a worker last applied, in shared memory (zero-filled, never
// constructed): written by its client's on_settings callback, read by the
// parent. at_ns 0: nothing applied yet.
struct Applied {
  std::atomic<int64_t> update;  // Which update (see ConfigFor).
  std::atomic<int64_t> at_ns;   // NowNs() when applied.
};

// Update `update` as a config whose configUpdatedAt (ms) is 1000 + update:
// a time of 0 would read as "no time".
std::string ConfigFor(int64_t update) {
  return absl::StrCat(R"({"configUpdatedAt":)", 1000 + update,
                      R"(,"endpoints":[],"blockedUserIds":[]})");
}

// Waits (sleeping 50 µs at a time, up to 10 s) until every worker applied
// `update`; returns the latest apply time, or 0 if some never did.
int64_t WaitForAll(SharedArray<Applied>& applied, int workers, int64_t update) {
  const int64_t give_up = NowNs() + int64_t{10} * 1000 * 1000 * 1000;
  for (;;) {
    int64_t latest = 0;
    bool all = true;
    for (int w = 0; w < workers; ++w) {
      if (applied[w].at_ns.load() == 0 || applied[w].update.load() < update) {
        all = false;
        break;
      }
      latest = std::max(latest, applied[w].at_ns.load());
    }
    if (all) return latest;
    if (NowNs() > give_up) return 0;
    ::usleep(50);
  }
}

int Main(int argc, char** argv) {
  const Flags flags(argc, argv);
  const int workers = static_cast<int>(flags.GetInt("workers", 8));
  const int updates = static_cast<int>(flags.GetInt("updates", 100));
  const std::string mode = flags.GetString("mode", "watch");
  const absl::Duration poll = absl::Milliseconds(flags.GetInt("poll_ms", 1000));
  const absl::Duration idle = absl::Seconds(flags.GetInt("idle_seconds", 2));

  absl::StatusOr<ipc::Secret> secret = ipc::Secret::Generate();
  if (!secret.ok()) return 1;
  absl::StatusOr<std::unique_ptr<AgentServer>> server =
      AgentServer::Create(&*secret);
  if (!server.ok() || !(*server)->Start().ok()) return 1;
  if (!(*server)->UpdateConfig(ConfigFor(0)).ok()) return 1;
  const uint16_t port = (*server)->port();

  SharedArray<Applied> applied(workers);
  Pipe stop;
  std::vector<pid_t> pids;
  for (int w = 0; w < workers; ++w) {
    pids.push_back(ForkChild([&, w] {
      server->release()->AbandonAfterFork();  // As a real worker does.
      AgentClientOptions options;
      options.port = port;
      options.watch_settings = mode == "watch";
      options.polling_interval = poll;
      options.polling_jitter = absl::ZeroDuration();
      options.flush_interval = absl::Hours(1);
      Applied* mine = &applied[w];
      options.on_settings = [mine](std::shared_ptr<const RuntimeSettings> s) {
        mine->at_ns.store(NowNs());
        mine->update.store(absl::ToUnixMillis(s->config_updated_at()) - 1000);
      };
      absl::StatusOr<std::unique_ptr<AgentClient>> client =
          AgentClient::Create(&*secret, options);
      if (!client.ok()) {
        std::fprintf(stderr, "worker: %s\n",
                     client.status().ToString().c_str());
        return 1;
      }
      if (mode == "poll") (void)(*client)->PollSettings();  // The first.
      stop.Wait();
      (*client)->Stop();
      return 0;
    }));
  }

  int errors = 0;
  if (WaitForAll(applied, workers, 0) == 0) {
    std::fprintf(stderr, "not every worker got the first settings\n");
    ++errors;
  }
  // Idle: every worker waits (a watch parked, or between polls).
  absl::SleepFor(absl::Milliseconds(200));
  const double cpu_before = ProcessCpuSeconds();
  const int64_t idle_start = NowNs();
  absl::SleepFor(idle);
  const double idle_cpu_ms_per_s =
      (ProcessCpuSeconds() - cpu_before) * 1e3 / ((NowNs() - idle_start) / 1e9);
  const size_t parked = (*server)->settings_watches_waiting();

  std::vector<double> ms;
  for (int u = 1; u <= updates; ++u) {
    const int64_t start = NowNs();
    absl::Status updated = (*server)->UpdateConfig(ConfigFor(u));
    if (!updated.ok()) {
      std::fprintf(stderr, "update %d: %s\n", u, updated.ToString().c_str());
      ++errors;
    }
    const int64_t last = WaitForAll(applied, workers, u);
    if (last == 0) {
      ++errors;
      break;
    }
    ms.push_back(std::max<int64_t>(0, last - start) / 1e6);
    ::usleep(2000);  // Let the watches park again.
  }
  stop.Post(workers);
  bool reaped = true;
  for (pid_t pid : pids) reaped &= Reap(pid);
  (*server)->Stop();
  if (!reaped) {
    std::fprintf(stderr, "a worker failed\n");
    ++errors;
  }

  JsonLine("propagation")
      .Add("mode", mode)
      .Add("workers", workers)
      .Add("updates", static_cast<int>(ms.size()))
      .Add("p50_ms", ms.empty() ? 0.0 : Percentile(ms, 0.50))
      .Add("p99_ms", ms.empty() ? 0.0 : Percentile(ms, 0.99))
      .Add("max_ms", ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end()))
      .Add("idle_parent_cpu_ms_per_s", idle_cpu_ms_per_s)
      .Add("watches_parked_idle", static_cast<int64_t>(parked))
      .Add("errors", errors)
      .Print();
  return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace zen::bench

int main(int argc, char** argv) { return zen::bench::Main(argc, argv); }
