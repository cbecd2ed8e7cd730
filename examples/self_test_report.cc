// The self-test's verdict: joins the scenario, folds the last events and
// checks every count against what the run did, then prints the summary.
#include <sys/types.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/clock.h"
#include "examples/self_test.h"

namespace zen::examples {
namespace {

constexpr absl::Duration kHardTimeLimit = absl::Seconds(30);

std::string Us(absl::Duration d) {
  return absl::StrFormat("%d us", absl::ToInt64Microseconds(d));
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exit ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    return absl::StrCat("signal ", WTERMSIG(wait_status));
  }
  return absl::StrCat("status ", wait_status);
}

}  // namespace

bool SelfTest::Finish(RunTotals* totals) {
  if (thread_.joinable()) thread_.join();

  // Workers flushed their events as they stopped; the parent acknowledges
  // a batch before folding it, so give the last batches a moment.
  Collector& collector = agent_->server()->collector();
  const absl::Time fold_deadline = zen::Now() + absl::Seconds(3);
  for (;;) {
    totals->Add(collector.Flush());
    if (totals->requests >= requests_sent_ || zen::Now() >= fold_deadline) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }

  WorkerStatus sum;
  LatencyHistogram rpc, zone;
  for (const auto& [pid, s] : final_statuses_) {
    sum.requests += s.requests;
    sum.allowed += s.allowed;
    sum.blocked += s.blocked;
    sum.rate_limited += s.rate_limited;
    sum.unprotected += s.unprotected;
    sum.events_dropped += s.events_dropped;
    sum.rate_limit_fallbacks += s.rate_limit_fallbacks;
    sum.rate_limits_from_zone += s.rate_limits_from_zone;
    sum.rate_limits_zone_deferred += s.rate_limits_zone_deferred;
    rpc.Merge(s.rate_limit_latency);
    zone.Merge(s.zone_latency);
  }
  const bool all_reported =
      static_cast<int>(final_statuses_.size()) == options_.workers;
  AddCheck("requests served = events folded in the parent",
           all_reported && requests_sent_ > 0 &&
               sum.requests == requests_sent_ &&
               totals->requests == requests_sent_,
           absl::StrCat(requests_sent_, " answered to clients, ", sum.requests,
                        " counted by ", final_statuses_.size(), " workers, ",
                        totals->requests,
                        " track_request events folded by the parent"));
  AddCheck("rate-limited requests = events folded in the parent",
           all_reported && sum.rate_limited == rate_limited_ &&
               totals->rate_limited_requests == rate_limited_,
           absl::StrCat(rate_limited_, " answered 429, ", sum.rate_limited,
                        " counted by workers, ", totals->rate_limited_requests,
                        " track_rate_limited_request events folded"));
  AddCheck("every request protected by the parent, nothing lost",
           transport_failures_ == 0 && sum.unprotected == 0 &&
               sum.rate_limit_fallbacks == 0 && sum.events_dropped == 0 &&
               totals->invalid_events == 0,
           absl::StrCat(
               transport_failures_, " transport failures, ", sum.unprotected,
               " unprotected, ", sum.rate_limit_fallbacks,
               " local rate-limit fallbacks, ", sum.events_dropped,
               " events dropped, ", totals->invalid_events, " invalid events"));

  // With the zone on (the default), the workers decide in it every rate
  // limit a zone window holds: the bursts to /api/limited (limits of 10
  // and 5). /api/search's 100,000 per minute is above a window's
  // max_requests_per_window, so each of those goes to the parent: the run
  // shows both paths, side by side.
  if (agent_->rate_limit_zone() != nullptr) {
    const uint64_t bursts = 2 * options_.burst_requests;
    AddCheck(
        "each rate-limit question decided where it belongs",
        zone.count() == bursts && rpc.count() == sum.rate_limits_zone_deferred,
        absl::StrCat(zone.count(), " decided in the shared zone (the ", bursts,
                     " burst requests), ", rpc.count(), " asked the parent, ",
                     sum.rate_limits_zone_deferred,
                     " of them above what a zone window holds"));
  }

  CheckAttackWave(*totals);

  // Only the killed worker may have died; the rest stop cleanly.
  std::vector<std::string> bad_exits;
  for (const WorkerExit& e : supervisor_->exits()) {
    const bool expected =
        e.during_stop
            ? (WIFEXITED(e.wait_status) && WEXITSTATUS(e.wait_status) == 0)
            : (e.pid == killed_worker_ && WIFSIGNALED(e.wait_status) &&
               WTERMSIG(e.wait_status) == SIGKILL);
    if (!expected) {
      bad_exits.push_back(
          absl::StrCat(e.pid, ": ", DescribeWaitStatus(e.wait_status),
                       e.during_stop ? " while stopping" : " while running"));
    }
  }
  AddCheck("workers stop cleanly (SIGTERM, flush, exit 0)", bad_exits.empty(),
           bad_exits.empty() ? "every worker exited 0"
                             : absl::StrJoin(bad_exits, "; "));
  const absl::Duration took = zen::Now() - started_at_;
  AddCheck("bounded run time", took < kHardTimeLimit,
           absl::StrCat("finished in ", Ms(took)));

  // The summary.
  std::printf("\nself-test summary\n");
  std::printf(
      "  traffic: %llu application requests in %.1f s (%u client "
      "threads, 2 bursts): %llu allowed, %llu refused (403), %llu "
      "throttled (429)\n",
      static_cast<unsigned long long>(requests_sent_),
      absl::ToDoubleSeconds(traffic_time_),
      static_cast<unsigned>(traffic_streams_),
      static_cast<unsigned long long>(sum.allowed),
      static_cast<unsigned long long>(forbidden_),
      static_cast<unsigned long long>(rate_limited_));
  std::printf("  %-8s %9s %8s %8s %8s %10s %10s %10s %10s %14s\n", "worker",
              "requests", "allowed", "403", "429", "zone", "zone p99",
              "rpc calls", "rpc p99", "settings after");
  for (const auto& [pid, s] : final_statuses_) {
    const auto applied = settings_applied_after_.find(pid);
    std::printf(
        "  %-8d %9llu %8llu %8llu %8llu %10llu %10s %10llu %10s %14s\n",
        static_cast<int>(pid), static_cast<unsigned long long>(s.requests),
        static_cast<unsigned long long>(s.allowed),
        static_cast<unsigned long long>(s.blocked),
        static_cast<unsigned long long>(s.rate_limited),
        static_cast<unsigned long long>(s.zone_latency.count()),
        Us(s.zone_latency.Percentile(0.99)).c_str(),
        static_cast<unsigned long long>(s.rate_limit_latency.count()),
        Us(s.rate_limit_latency.Percentile(0.99)).c_str(),
        applied == settings_applied_after_.end() ? "-"
                                                 : Ms(applied->second).c_str());
  }
  // Whole microseconds: a zone decision well under one shows as 0 us.
  std::printf(
      "  rate-limit decisions in the shared zone (no round trip): %llu, "
      "p50 %s, p99 %s, max %s\n",
      static_cast<unsigned long long>(zone.count()),
      Us(zone.Percentile(0.5)).c_str(), Us(zone.Percentile(0.99)).c_str(),
      Us(zone.max()).c_str());
  std::printf(
      "  rate-limit questions to the parent (calculate_rate_limits round "
      "trip): %llu calls, p50 %s, p99 %s, max %s\n",
      static_cast<unsigned long long>(rpc.count()),
      Us(rpc.Percentile(0.5)).c_str(), Us(rpc.Percentile(0.99)).c_str(),
      Us(rpc.max()).c_str());
  std::printf(
      "  parent collector: %llu requests, %llu rate-limited over %llu "
      "periods; user agents: %s; monitored lists: %s\n",
      static_cast<unsigned long long>(totals->requests),
      static_cast<unsigned long long>(totals->rate_limited_requests),
      static_cast<unsigned long long>(totals->periods),
      absl::StrJoin(totals->user_agent_hits, ", ", absl::PairFormatter(" "))
          .c_str(),
      absl::StrJoin(totals->ip_list_hits, ", ", absl::PairFormatter(" "))
          .c_str());
  std::printf("  routes: %s\n",
              absl::StrJoin(totals->route_hits, ", ", absl::PairFormatter(" "))
                  .c_str());

  bool all_ok = true;
  std::printf("\nchecks\n");
  for (const Check& check : checks_) {
    all_ok = all_ok && check.ok;
    std::printf("  [%s] %s: %s\n", check.ok ? " OK " : "FAIL",
                check.name.c_str(), check.detail.c_str());
  }
  std::printf("\nself-test: %s\n", all_ok ? "PASSED" : "FAILED");
  std::fflush(stdout);
  return all_ok;
}

}  // namespace zen::examples
