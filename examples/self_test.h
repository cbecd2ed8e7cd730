// The program's --self-test: the whole pre-fork server under load, with a
// settings change in the middle, checked end to end.
#ifndef ZEN_EXAMPLES_SELF_TEST_H_
#define ZEN_EXAMPLES_SELF_TEST_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "agent/agent.h"
#include "examples/stats_report.h"
#include "examples/supervisor.h"
#include "examples/worker_status.h"

namespace zen::examples {

struct SelfTestOptions {
  int workers = 4;
  // Background traffic lasts at least this long, and at least a second
  // past the moment the settings change reached every worker.
  absl::Duration traffic = absl::Seconds(3);
  // Requests per rate-limit burst, and the threads sending them.
  size_t burst_requests = 60;
  size_t burst_threads = 6;
  // The scenario gives up on what it has not done by then.
  absl::Duration time_limit = absl::Seconds(25);
};

// The scenario, on a thread of its own while the supervisor runs:
//  1. waits until every worker answers /_zen/status with settings applied;
//  2. kills one worker with SIGKILL and waits for its replacement;
//  3. starts background traffic (keep-alive visitors, a monitored address,
//     a blocked address, and an address about to be blocked) and sends a
//     burst to the endpoint limited to 10 per minute from one client;
//  4. pushes new settings through AgentServer (that address blocked, the
//     limit lowered to 5) and measures until every worker applied them;
//  5. sends a second burst from a new client;
//  6. stops the traffic, reads every worker's final status, and asks the
//     supervisor to stop the workers (which flush their events as they go).
// Finish() then checks what the parent folded and prints the summary.
class SelfTest {
 public:
  // `agent`, `supervisor` must outlive this object. `http_port` is the
  // workers' shared listening port.
  SelfTest(SelfTestOptions options, Agent* agent, Supervisor* supervisor,
           uint16_t http_port);
  ~SelfTest();
  SelfTest(const SelfTest&) = delete;
  SelfTest& operator=(const SelfTest&) = delete;

  // Starts the scenario thread. Call after the supervisor is about to run
  // (the scenario waits for workers to appear).
  void Start();

  // Call after Supervisor::Run() returned (every worker reaped), on the
  // thread that owns `totals`, whose periods so far came from the same
  // collector. Joins the scenario, folds the collector's last events into
  // `totals`, prints the summary to stdout and returns true iff every check
  // held.
  bool Finish(RunTotals* totals);

 private:
  struct Check {
    std::string name;
    bool ok = false;
    std::string detail;
  };
  struct BurstOutcome {
    std::string client_ip;
    int64_t max_requests = 0;
    uint64_t admitted = 0;
    uint64_t throttled = 0;
    uint64_t other = 0;
    size_t workers = 0;  // Distinct workers that answered.
  };

  void Scenario();
  // Phases; each returns false when the scenario cannot go on.
  bool WaitForWorkers();
  bool RestartOneWorker();
  void ChangeSettings();
  BurstOutcome RunBurst(const std::string& client_ip, int64_t max_requests);
  // One client probes like a scanner, across workers
  // (self_test_attack_wave.cc); CheckAttackWave, from Finish, checks the parent
  // flagged it exactly once.
  void RunAttackWave();
  void CheckAttackWave(const RunTotals& totals);

  // Asks /_zen/status until each worker in `pids` answered with a status
  // that `accept` takes, or `deadline`. Returns the accepted ones.
  template <typename Accept>
  std::map<pid_t, WorkerStatus> Statuses(const std::vector<pid_t>& pids,
                                         absl::Time deadline, Accept accept);
  std::vector<pid_t> LiveWorkers() const;
  absl::Time Deadline(absl::Duration budget) const;
  void AddCheck(std::string name, bool ok, std::string detail);
  void Say(const std::string& line);
  // `d` in milliseconds with one decimal ("12.3 ms"), for report lines.
  static std::string Ms(absl::Duration d);

  const SelfTestOptions options_;
  Agent* const agent_;            // Not owned.
  Supervisor* const supervisor_;  // Not owned.
  const uint16_t port_;
  std::thread thread_;

  // Written by the scenario thread, read by Finish() after joining it.
  absl::Time started_at_;
  std::vector<Check> checks_;
  pid_t killed_worker_ = 0;
  uint64_t requests_sent_ = 0;  // Application requests answered.
  uint64_t rate_limited_ = 0;
  uint64_t forbidden_ = 0;
  uint64_t transport_failures_ = 0;
  absl::Duration traffic_time_ = absl::ZeroDuration();
  size_t traffic_streams_ = 0;
  absl::Time settings_changed_at_;
  absl::Time
      settings_confirmed_at_;  // When statuses showed every worker had it.
  std::map<pid_t, absl::Duration> settings_applied_after_;
  std::map<pid_t, WorkerStatus> final_statuses_;
  uint64_t wave_probes_ = 0;       // Scanner probes answered.
  size_t wave_probe_workers_ = 0;  // Distinct workers that answered them.
};

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_SELF_TEST_H_
