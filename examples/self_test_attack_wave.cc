// The self-test's attack-wave phase: one client probes like a web scanner
// with fresh connections, so its probes reach several workers; the parent's
// one detector must flag it exactly once (as the reference's does).
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/load_client.h"
#include "examples/self_test.h"

namespace zen::examples {
namespace {

constexpr char kScannerIp[] = "198.51.100.66";
// Served by the demo app (every /api/ path is) and a scanner's probe for a
// hidden file (IsScanProbe).
constexpr char kProbePath[] = "/api/.env";
// Past the detector's threshold (15): the rest are ignored while flagged.
constexpr size_t kProbes = 24;
constexpr size_t kProbeThreads = 4;

}  // namespace

void SelfTest::RunAttackWave() {
  Tally tally;
  const std::vector<FetchResult> results =
      Burst(port_, kProbePath, kScannerIp, kProbes, kProbeThreads, &tally);
  std::set<pid_t> workers;
  for (const FetchResult& result : results) {
    if (result.worker_pid != 0) workers.insert(result.worker_pid);
  }
  wave_probes_ = tally.total().responses;
  wave_probe_workers_ = workers.size();
  requests_sent_ += tally.total().responses;
  rate_limited_ += tally.total().too_many;
  forbidden_ += tally.total().forbidden;
  transport_failures_ += tally.total().failed;
  Say(absl::StrCat(wave_probes_, " scanner probes from ", kScannerIp, " to ",
                   kProbePath, ", answered by ", wave_probe_workers_,
                   " workers"));
}

void SelfTest::CheckAttackWave(const RunTotals& totals) {
  AddCheck(
      "a scanner's attack wave is flagged once across workers",
      wave_probes_ == kProbes && wave_probe_workers_ >= 2 &&
          totals.attack_waves == 1,
      absl::StrCat(wave_probes_, " probes from ", kScannerIp, " answered by ",
                   wave_probe_workers_, " workers; ", totals.attack_waves,
                   " track_attack_wave events folded by the parent"));
}

}  // namespace zen::examples
