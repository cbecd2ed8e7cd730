// AttackWaveDetector: the one detector of attack waves, held by the parent.
#ifndef ZEN_AGENT_ATTACK_WAVE_DETECTOR_H_
#define ZEN_AGENT_ATTACK_WAVE_DETECTOR_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "base/mutex.h"

namespace zen {

struct AttackWaveSample {
  std::string method;
  std::string url;
};

struct AttackWaveOptions {
  // Suspicious requests from one IP that make a wave (the reference's 15).
  size_t threshold = 15;
  // IPs tracked at once; the oldest is forgotten past this.
  size_t max_tracked_ips = 10000;
};

// Collects suspicious requests per client IP. When an IP's samples reach the
// threshold, Record returns them once; the IP is then flagged and later
// records return nullopt (REFERENCE-BEHAVIORS item 71). Thread-safe.
class AttackWaveDetector {
 public:
  explicit AttackWaveDetector(AttackWaveOptions options = {});

  std::optional<std::vector<AttackWaveSample>> Record(absl::string_view ip,
                                                      absl::string_view method,
                                                      absl::string_view url)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    std::vector<AttackWaveSample> samples;
    bool flagged = false;
    uint64_t last_seen = 0;
  };
  const AttackWaveOptions options_;
  Mutex mu_;
  uint64_t clock_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, Entry> ips_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zen

#endif  // ZEN_AGENT_ATTACK_WAVE_DETECTOR_H_
