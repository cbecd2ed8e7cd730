#include "agent/model/attack_wave_detector.h"

#include <algorithm>
#include <utility>

#include "agent/model/bounded_key.h"

namespace zen {

AttackWaveDetector::AttackWaveDetector(AttackWaveOptions options)
    : options_(options), ips_(options.max_tracked_ips) {}

std::optional<std::vector<AttackWaveSample>> AttackWaveDetector::Record(
    absl::string_view ip, absl::string_view method, absl::string_view url,
    absl::Time now) {
  // Attacker-chosen bytes: the key and the sample are bounded before any
  // is kept (the count is not affected).
  const std::string key = ClientIpKey(ip);
  method = TruncateUtf8(method, kMaxSampleMethodBytes);
  url = TruncateUtf8(url, kMaxSampleUrlBytes);
  MutexLock lock(&mu_);
  Entry& entry = *ips_.FindOrInsert(key).value;
  if (now < entry.flagged_until) return std::nullopt;

  // An expired count or sample set starts again, as a fresh one would.
  if (now >= entry.count_expires) entry.count = 0;
  ++entry.count;
  entry.count_expires = now + options_.request_ttl;

  if (now >= entry.samples_expire) entry.samples.clear();
  entry.samples_expire = now + options_.request_ttl;
  const bool seen = std::any_of(entry.samples.begin(), entry.samples.end(),
                                [&](const AttackWaveSample& s) {
                                  return s.method == method && s.url == url;
                                });
  if (!seen) {
    if (entry.samples.size() >= std::max<size_t>(options_.max_samples, 1)) {
      entry.samples.erase(entry.samples.begin());
    }
    entry.samples.push_back({std::string(method), std::string(url)});
  }

  if (entry.count < options_.threshold) return std::nullopt;
  entry.flagged_until = now + options_.cooldown;
  return entry.samples;
}

size_t AttackWaveDetector::tracked_ips() const {
  MutexLock lock(&mu_);
  return ips_.size();
}

}  // namespace zen
