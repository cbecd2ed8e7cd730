// The zone's crash-safety run, shared by its test (about 1,000 kills) and
// bench/zone_kill_run (10,000): forked workers hammer one hot key and many
// others while the parent SIGKILLs them at random moments, then checks
// that no window ever admitted more than its limit, that no key is stuck
// and that the zone's invariants hold.
//
// Each worker counts with its own clock reading as `now` and writes every
// admission's key, `now` and return time to its own pipe before the next
// check. A worker killed between the zone's commit and that write leaves
// an admission out of the log, which only makes the check weaker, never
// wrong. The check allows for the workers' racing clock readings (see the
// .cc): it flags limit + 1 admissions that fall within one window however
// the races went.
#ifndef ZEN_TESTING_AGENT_RATE_LIMIT_ZONE_KILL_RUN_H_
#define ZEN_TESTING_AGENT_RATE_LIMIT_ZONE_KILL_RUN_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace zen {

struct ZoneKillRunOptions {
  int workers = 4;
  int kills = 1000;
  // The run stops at this point even if it killed fewer.
  absl::Duration time_limit = absl::Seconds(30);
  int keys = 64;      // besides the hot key half the checks go to
  int64_t limit = 5;  // per window
  absl::Duration window = absl::Milliseconds(20);
  // A worker lives between these before it is killed.
  absl::Duration min_life = absl::Microseconds(200);
  absl::Duration max_life = absl::Milliseconds(3);
  uint32_t seed = 1;
};

struct ZoneKillRunResult {
  bool ok = false;
  std::string problem;  // the first one found, when !ok
  int kills = 0;
  uint64_t admissions_logged = 0;
  uint64_t recoveries = 0;  // lock takeovers from killed holders
  absl::Duration elapsed;
};

ZoneKillRunResult RunZoneKillRun(const ZoneKillRunOptions& options);

}  // namespace zen

#endif  // ZEN_TESTING_AGENT_RATE_LIMIT_ZONE_KILL_RUN_H_
