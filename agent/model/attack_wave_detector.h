// AttackWaveDetector: the one detector of attack waves, held by the parent
// (and, as a fallback, one per worker when the parent does not answer).
//
// Semantics are the reference's (aikido-zen 1.8.0, AttackWave::Detector),
// per client IP:
//  * every suspicious request counts; the count is forgotten after
//    `request_ttl` without a request from that IP (each request renews it);
//  * the IP's samples are a set of distinct (method, url) pairs in the order
//    first seen, at most `max_samples` (the oldest goes first), renewed and
//    forgotten like the count;
//  * when the count reaches `threshold`, Record returns the samples and the
//    IP is flagged for `cooldown`; while flagged its requests are neither
//    counted nor sampled, and Record returns nullopt. The count and samples
//    are not reset by the wave: they expire as above (by the end of the
//    default cooldown they have).
// At most `max_tracked_ips` IPs are tracked; the least recently seen one is
// forgotten (O(1)) to make room. An IP is kept in canonical form (another
// spelling of one address is the same client) and at most kMaxKeyBytes; a
// sample's method and url are cut to kMaxSampleMethodBytes and
// kMaxSampleUrlBytes (at a UTF-8 boundary) before they are kept or
// compared. So memory stays within about max_tracked_ips * (max_samples *
// 400 B + 300 B), 63 MB by default, whatever clients send.
#ifndef ZEN_AGENT_MODEL_ATTACK_WAVE_DETECTOR_H_
#define ZEN_AGENT_MODEL_ATTACK_WAVE_DETECTOR_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/lru_map.h"
#include "base/mutex.h"

namespace zen {

// Bytes of a sample kept; the rest of a longer method or url is dropped.
inline constexpr size_t kMaxSampleMethodBytes = 32;
inline constexpr size_t kMaxSampleUrlBytes = 256;

struct AttackWaveSample {
  std::string method;
  std::string url;
};

struct AttackWaveOptions {
  // Suspicious requests from one IP that make a wave (the reference's 15).
  size_t threshold = 15;
  // How long an IP's count and samples live after its last request (the
  // reference's attack_wave_min_time_between_requests, 1 min).
  absl::Duration request_ttl = absl::Minutes(1);
  // How long an IP stays flagged after a wave (the reference's
  // attack_wave_min_time_between_events, 20 min).
  absl::Duration cooldown = absl::Minutes(20);
  // Distinct samples kept per IP (the reference's 15).
  size_t max_samples = 15;
  // IPs tracked at once (the reference's 10,000).
  size_t max_tracked_ips = 10000;
};

// Thread-safe: Record may be called from any number of threads; records of
// one IP are serialized, so a burst crosses the threshold exactly once.
class AttackWaveDetector {
 public:
  explicit AttackWaveDetector(AttackWaveOptions options = {});
  AttackWaveDetector(const AttackWaveDetector&) = delete;
  AttackWaveDetector& operator=(const AttackWaveDetector&) = delete;

  // Records one suspicious request from `ip` at `now` (from the caller, so
  // tests can use a fake clock). Returns the IP's samples, oldest first,
  // when this request completes a wave; nullopt otherwise.
  std::optional<std::vector<AttackWaveSample>> Record(absl::string_view ip,
                                                      absl::string_view method,
                                                      absl::string_view url,
                                                      absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);

  // IPs tracked now.
  size_t tracked_ips() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    uint64_t count = 0;
    absl::Time count_expires = absl::InfinitePast();
    std::vector<AttackWaveSample> samples;  // distinct, oldest first
    absl::Time samples_expire = absl::InfinitePast();
    absl::Time flagged_until = absl::InfinitePast();
  };

  const AttackWaveOptions options_;
  mutable Mutex mu_;
  LruMap<Entry> ips_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zen

#endif  // ZEN_AGENT_MODEL_ATTACK_WAVE_DETECTOR_H_
