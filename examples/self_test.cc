#include "examples/self_test.h"

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "agent/settings_cache.h"
#include "base/clock.h"
#include "examples/default_settings.h"
#include "examples/demo_app.h"
#include "examples/latency_histogram.h"
#include "examples/load_client.h"

namespace zen::examples {
namespace {

constexpr char kLimitedPath[] = "/api/limited";
constexpr int64_t kLimitBefore = 10;  // kDefaultConfigJson
constexpr int64_t kLimitAfter = 5;    // ChangedConfig()
// Blocked by ChangedFirewallLists(), answered 200 before.
constexpr char kNewlyBlockedIp[] = "203.0.113.66";
// In the default blocked list, answered 403 throughout.
constexpr char kAlwaysBlockedIp[] = "192.0.2.44";
// In the default monitored list.
constexpr char kMonitoredIp[] = "198.18.0.7";
// How soon a settings change must reach every worker: each keeps a
// watch_settings call outstanding, so it is milliseconds; the bound is
// generous, so a loaded machine does not fail the run (the figures are
// bench/settings_propagation's).
constexpr absl::Duration kMaxPropagation = absl::Seconds(2);
constexpr absl::Duration kHardTimeLimit = absl::Seconds(30);

// The default config with the /api/limited limit lowered to kLimitAfter and
// a newer configUpdatedAt. Empty if the default no longer has those texts.
std::string ChangedConfig() {
  std::string text(kDefaultConfigJson);
  const int replaced =
      absl::StrReplaceAll({{"\"configUpdatedAt\": 1700000000000",
                            "\"configUpdatedAt\": 1700000060000"},
                           {"\"maxRequests\": 10,", "\"maxRequests\": 5,"}},
                          &text);
  return replaced == 2 ? text : std::string();
}

// The default lists with one more blocked list holding kNewlyBlockedIp.
std::string ChangedFirewallLists() {
  std::string text(kDefaultFirewallListsJson);
  const int replaced = absl::StrReplaceAll(
      {{"\"blockedIPAddresses\": [",
        absl::StrCat("\"blockedIPAddresses\": [\n    {\"key\": "
                     "\"self_test/blocked\", \"source\": \"self-test\", "
                     "\"description\": \"Blocked during the run\", \"ips\": "
                     "[\"",
                     kNewlyBlockedIp, "\"]},")}},
      &text);
  return replaced == 1 ? text : std::string();
}

std::string Ms(absl::Duration d) {
  return absl::StrFormat("%.1f ms", absl::ToDoubleMilliseconds(d));
}

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

bool Ready(const WorkerStatus& s) {
  return s.agent_connected && s.config_generation >= 1 &&
         s.firewall_lists_generation >= 1;
}

}  // namespace

SelfTest::SelfTest(SelfTestOptions options, Agent* agent,
                   Supervisor* supervisor, uint16_t http_port)
    : options_(std::move(options)),
      agent_(agent),
      supervisor_(supervisor),
      port_(http_port) {}

SelfTest::~SelfTest() {
  if (thread_.joinable()) thread_.join();
}

void SelfTest::Start() {
  started_at_ = zen::Now();
  thread_ = std::thread([this] { Scenario(); });
}

void SelfTest::Say(const std::string& line) {
  std::printf("self-test: %s\n", line.c_str());
  std::fflush(stdout);
}

void SelfTest::AddCheck(std::string name, bool ok, std::string detail) {
  checks_.push_back({std::move(name), ok, std::move(detail)});
}

absl::Time SelfTest::Deadline(absl::Duration budget) const {
  return std::min(zen::Now() + budget, started_at_ + options_.time_limit);
}

std::vector<pid_t> SelfTest::LiveWorkers() const {
  std::vector<pid_t> pids = supervisor_->live_workers();
  pids.erase(std::remove(pids.begin(), pids.end(), 0), pids.end());
  return pids;
}

template <typename Accept>
std::map<pid_t, WorkerStatus> SelfTest::Statuses(const std::vector<pid_t>& pids,
                                                 absl::Time deadline,
                                                 Accept accept) {
  const std::set<pid_t> wanted(pids.begin(), pids.end());
  std::map<pid_t, WorkerStatus> accepted;
  while (accepted.size() < wanted.size() && zen::Now() < deadline) {
    const FetchResult result = FetchOnce(port_, kStatusPath, "");
    absl::StatusOr<WorkerStatus> status =
        result.http_status == 200 ? ParseWorkerStatus(result.body)
                                  : absl::StatusOr<WorkerStatus>(
                                        absl::UnavailableError(result.error));
    if (status.ok() && wanted.count(static_cast<pid_t>(status->pid)) != 0 &&
        accept(*status)) {
      accepted[static_cast<pid_t>(status->pid)] = *std::move(status);
    } else {
      absl::SleepFor(absl::Milliseconds(2));
    }
  }
  return accepted;
}

bool SelfTest::WaitForWorkers() {
  const absl::Time deadline = Deadline(absl::Seconds(10));
  std::vector<pid_t> pids = LiveWorkers();
  while (static_cast<int>(pids.size()) < options_.workers &&
         zen::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
    pids = LiveWorkers();
  }
  const auto ready = Statuses(pids, deadline, Ready);
  const bool ok = static_cast<int>(ready.size()) == options_.workers;
  AddCheck("every worker serves, with the parent's settings", ok,
           absl::StrCat(ready.size(), "/", options_.workers,
                        " workers ready after ", Ms(zen::Now() - started_at_)));
  Say(checks_.back().detail);
  return ok;
}

bool SelfTest::RestartOneWorker() {
  const std::vector<pid_t> before = supervisor_->live_workers();
  killed_worker_ = before.at(0);
  const absl::Time killed_at = zen::Now();
  ::kill(killed_worker_, SIGKILL);
  const absl::Time deadline = Deadline(absl::Seconds(5));
  pid_t replacement = 0;
  while (zen::Now() < deadline) {
    const pid_t now_in_slot = supervisor_->live_workers().at(0);
    if (now_in_slot != 0 && now_in_slot != killed_worker_) {
      replacement = now_in_slot;
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  const bool ok =
      replacement != 0 && Statuses({replacement}, deadline, Ready).size() == 1;
  AddCheck("a worker that dies is replaced", ok,
           absl::StrCat("killed worker ", killed_worker_,
                        " with SIGKILL; replacement ", replacement,
                        ok ? " serving after " : " not serving after ",
                        Ms(zen::Now() - killed_at)));
  Say(checks_.back().detail);
  return ok;
}

SelfTest::BurstOutcome SelfTest::RunBurst(const std::string& client_ip,
                                          int64_t max_requests) {
  BurstOutcome burst;
  burst.client_ip = client_ip;
  burst.max_requests = max_requests;
  Tally tally;
  const std::vector<FetchResult> results =
      Burst(port_, kLimitedPath, client_ip, options_.burst_requests,
            options_.burst_threads, &tally);
  std::set<pid_t> workers;
  for (const FetchResult& result : results) {
    if (result.http_status == 200) {
      ++burst.admitted;
    } else if (result.http_status == 429) {
      ++burst.throttled;
    } else {
      ++burst.other;
    }
    if (result.worker_pid != 0) workers.insert(result.worker_pid);
  }
  burst.workers = workers.size();
  requests_sent_ += tally.total().responses;
  rate_limited_ += tally.total().too_many;
  forbidden_ += tally.total().forbidden;
  transport_failures_ += tally.total().failed;

  const bool ok = burst.admitted == static_cast<uint64_t>(max_requests) &&
                  burst.other == 0 && burst.workers >= 2;
  AddCheck(absl::StrCat("limit of ", max_requests,
                        " per window holds across workers"),
           ok,
           absl::StrCat(options_.burst_requests, " requests from ", client_ip,
                        " to GET ", kLimitedPath, ": ", burst.admitted,
                        " admitted, ", burst.throttled, " throttled (429), ",
                        burst.other, " other; answered by ", burst.workers,
                        " workers"));
  Say(checks_.back().detail);
  return burst;
}

void SelfTest::ChangeSettings() {
  AgentServer* server = agent_->server();
  const std::string config = ChangedConfig();
  const std::string lists = ChangedFirewallLists();
  settings_changed_at_ = zen::Now();
  absl::Status pushed = server->UpdateFirewallLists(lists);
  pushed.Update(server->UpdateConfig(config));
  const SettingsSnapshot snapshot = server->settings_cache().Snapshot();
  const int64_t config_generation =
      static_cast<int64_t>(snapshot.config_generation);
  const int64_t lists_generation =
      static_cast<int64_t>(snapshot.firewall_lists_generation);
  const int64_t changed_us = absl::ToUnixMicros(settings_changed_at_);

  const std::vector<pid_t> pids = LiveWorkers();
  const auto applied =
      Statuses(pids, Deadline(absl::Seconds(5)), [&](const WorkerStatus& s) {
        return s.config_generation >= config_generation &&
               s.firewall_lists_generation >= lists_generation &&
               s.config_applied_at_us >= changed_us &&
               s.firewall_lists_applied_at_us >= changed_us;
      });
  settings_confirmed_at_ = zen::Now();
  absl::Duration slowest = absl::ZeroDuration();
  for (const auto& [pid, status] : applied) {
    const absl::Duration after =
        absl::Microseconds(std::max(status.config_applied_at_us,
                                    status.firewall_lists_applied_at_us) -
                           changed_us);
    settings_applied_after_[pid] = after;
    slowest = std::max(slowest, after);
  }
  const bool ok = pushed.ok() && !config.empty() && !lists.empty() &&
                  applied.size() == pids.size() && slowest <= kMaxPropagation;
  AddCheck(
      "a settings change reaches every worker", ok,
      absl::StrCat(pushed.ok() ? "" : absl::StrCat(pushed.ToString(), "; "),
                   "config generation ", config_generation,
                   " and firewall lists generation ", lists_generation,
                   " applied by ", applied.size(), "/", pids.size(),
                   " workers; slowest after ", Ms(slowest), " (limit ",
                   Ms(kMaxPropagation), "); confirmed by status after ",
                   Ms(settings_confirmed_at_ - settings_changed_at_)));
  Say(checks_.back().detail);
}

void SelfTest::Scenario() {
  Say(absl::StrCat(options_.workers, " workers on http://127.0.0.1:", port_,
                   ", agent server on ", agent_->server()->host(), ":",
                   agent_->server()->port()));
  if (!WaitForWorkers() || !RestartOneWorker()) {
    supervisor_->RequestStop();
    return;
  }

  const std::vector<std::string> pages = {"/api/hello", "/api/search"};
  std::vector<TrafficStream> streams = {
      {"10.0.1.1", pages, 20, false, absl::ZeroDuration()},
      {"10.0.2.1", pages, 20, false, absl::ZeroDuration()},
      {"10.0.3.1", pages, 20, false, absl::ZeroDuration()},
      {kMonitoredIp, pages, 20, false, absl::ZeroDuration()},
      // Fresh connections, so each probe reaches every worker in turn.
      {kNewlyBlockedIp, {"/api/hello"}, 1, true, absl::Milliseconds(2)},
      {kAlwaysBlockedIp, {"/api/hello"}, 1, true, absl::Milliseconds(5)},
  };
  const size_t probe = 4;
  const size_t blocked = 5;
  traffic_streams_ = streams.size();
  Tally tally;
  Traffic traffic(port_, std::move(streams), &tally);
  const absl::Time traffic_started = zen::Now();
  traffic.Start();
  Say(absl::StrCat("traffic from ", traffic_streams_, " client threads"));

  absl::SleepFor(absl::Milliseconds(300));
  RunBurst("203.0.113.10", kLimitBefore);
  absl::SleepFor(traffic_started + absl::Seconds(1) - zen::Now());
  ChangeSettings();
  RunBurst("203.0.113.20", kLimitAfter);
  RunAttackWave();
  const absl::Time traffic_until =
      std::min(std::max(traffic_started + options_.traffic,
                        settings_confirmed_at_ + absl::Seconds(1)),
               Deadline(absl::Seconds(10)));
  absl::SleepFor(traffic_until - zen::Now());
  traffic.Stop();
  traffic_time_ = zen::Now() - traffic_started;

  const Tally::Counts counts = tally.total();
  requests_sent_ += counts.responses;
  rate_limited_ += counts.too_many;
  forbidden_ += counts.forbidden;
  transport_failures_ += counts.failed;

  // The address blocked mid-run: 200 before the change, 403 once every
  // worker had it.
  uint64_t before_ok = 0, before_total = 0, after_blocked = 0, after_total = 0;
  std::set<pid_t> refusing_workers;
  for (const FetchResult& r : traffic.results(probe)) {
    if (r.done_at < settings_changed_at_) {
      ++before_total;
      if (r.http_status == 200) ++before_ok;
    } else if (r.sent_at > settings_confirmed_at_) {
      ++after_total;
      if (r.http_status == 403) {
        ++after_blocked;
        refusing_workers.insert(r.worker_pid);
      }
    }
  }
  AddCheck("the newly blocked address is refused by every worker",
           before_total > 0 && before_ok == before_total && after_total > 0 &&
               after_blocked == after_total &&
               static_cast<int>(refusing_workers.size()) == options_.workers,
           absl::StrCat(kNewlyBlockedIp, ": ", before_ok, "/", before_total,
                        " allowed before the change, ", after_blocked, "/",
                        after_total, " refused (by ", refusing_workers.size(),
                        " workers) after every worker had it"));
  uint64_t always_refused = 0, always_total = 0;
  for (const FetchResult& r : traffic.results(blocked)) {
    ++always_total;
    if (r.http_status == 403) ++always_refused;
  }
  AddCheck("an address on a blocked list is refused",
           always_total > 0 && always_refused == always_total,
           absl::StrCat(kAlwaysBlockedIp, ": ", always_refused, "/",
                        always_total, " refused"));

  final_statuses_ = Statuses(LiveWorkers(), Deadline(absl::Seconds(5)),
                             [](const WorkerStatus&) { return true; });
  supervisor_->RequestStop();
}

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
  LatencyHistogram rpc;
  for (const auto& [pid, s] : final_statuses_) {
    sum.requests += s.requests;
    sum.allowed += s.allowed;
    sum.blocked += s.blocked;
    sum.rate_limited += s.rate_limited;
    sum.unprotected += s.unprotected;
    sum.events_dropped += s.events_dropped;
    sum.rate_limit_fallbacks += s.rate_limit_fallbacks;
    rpc.Merge(s.rate_limit_latency);
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
  std::printf("  %-8s %9s %8s %8s %8s %10s %10s %10s %14s\n", "worker",
              "requests", "allowed", "403", "429", "rpc calls", "rpc p50",
              "rpc p99", "settings after");
  for (const auto& [pid, s] : final_statuses_) {
    const auto applied = settings_applied_after_.find(pid);
    std::printf(
        "  %-8d %9llu %8llu %8llu %8llu %10llu %10s %10s %14s\n",
        static_cast<int>(pid), static_cast<unsigned long long>(s.requests),
        static_cast<unsigned long long>(s.allowed),
        static_cast<unsigned long long>(s.blocked),
        static_cast<unsigned long long>(s.rate_limited),
        static_cast<unsigned long long>(s.rate_limit_latency.count()),
        Us(s.rate_limit_latency.Percentile(0.5)).c_str(),
        Us(s.rate_limit_latency.Percentile(0.99)).c_str(),
        applied == settings_applied_after_.end() ? "-"
                                                 : Ms(applied->second).c_str());
  }
  std::printf(
      "  agent RPC seen by workers (calculate_rate_limits round "
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
