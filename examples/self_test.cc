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
#include "agent/model/settings_cache.h"
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

std::string SelfTest::Ms(absl::Duration d) {
  return absl::StrFormat("%.1f ms", absl::ToDoubleMilliseconds(d));
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

}  // namespace zen::examples
