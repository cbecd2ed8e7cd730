// The rate-limit zone's crash-safety run at full length (the suite's
// //agent/model:rate_limit_zone_fork_test runs 1,000 kills):
//
//   bazel run -c opt //bench:zone_kill_run -- [KILLS] [WORKERS]
//
// Exits 1, saying why, if a window admitted more than its limit, a key was
// stuck or the zone's invariants broke.
#include <cstdio>
#include <cstdlib>

#include "absl/time/time.h"
#include "testing/agent/rate_limit_zone_kill_run.h"

int main(int argc, char** argv) {
  zen::ZoneKillRunOptions options;
  options.kills = argc > 1 ? std::atoi(argv[1]) : 10000;
  options.workers = argc > 2 ? std::atoi(argv[2]) : 4;
  options.time_limit = absl::Minutes(30);
  const zen::ZoneKillRunResult result = zen::RunZoneKillRun(options);
  std::printf(
      "%d workers, %d kills, %llu admissions logged, %llu lock takeovers "
      "from killed holders, %s: %s\n",
      options.workers, result.kills,
      static_cast<unsigned long long>(result.admissions_logged),
      static_cast<unsigned long long>(result.recoveries),
      absl::FormatDuration(result.elapsed).c_str(),
      result.ok ? "ok" : result.problem.c_str());
  return result.ok ? 0 : 1;
}
