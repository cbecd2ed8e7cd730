#include "agent/attack_wave_detector.h"

#include <utility>

namespace zen {

AttackWaveDetector::AttackWaveDetector(AttackWaveOptions options)
    : options_(options) {}

std::optional<std::vector<AttackWaveSample>> AttackWaveDetector::Record(
    absl::string_view ip, absl::string_view method, absl::string_view url) {
  MutexLock lock(&mu_);
  auto it = ips_.find(ip);
  if (it == ips_.end()) {
    if (ips_.size() >= options_.max_tracked_ips) {
      // Forget the IP seen least recently (O(n), only when full).
      auto oldest = ips_.begin();
      for (auto e = ips_.begin(); e != ips_.end(); ++e) {
        if (e->second.last_seen < oldest->second.last_seen) oldest = e;
      }
      ips_.erase(oldest);
    }
    it = ips_.emplace(std::string(ip), Entry()).first;
  }
  Entry& entry = it->second;
  entry.last_seen = ++clock_;
  if (entry.flagged) return std::nullopt;
  entry.samples.push_back({std::string(method), std::string(url)});
  if (entry.samples.size() < options_.threshold) return std::nullopt;
  entry.flagged = true;
  return std::exchange(entry.samples, {});
}

}  // namespace zen
