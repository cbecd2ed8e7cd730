#include "agent/model/settings_cache.h"

#include <utility>

namespace zen {

uint64_t SettingsCache::UpdateConfig(std::string json) {
  return Update(kConfig, std::move(json));
}

uint64_t SettingsCache::UpdateFirewallLists(std::string json) {
  return Update(kFirewallLists, std::move(json));
}

uint64_t SettingsCache::Update(Which which, std::string json) {
  MutexLock writer(&writer_mu_);
  Document current;
  {
    MutexLock lock(&mu_);
    current = documents_[which];
  }
  // Only writers change documents_, and writer_mu_ excludes the others, so
  // `current` stays current while the (possibly megabytes long) comparison
  // runs without blocking readers.
  // Nothing cached is `null` (the reference's nil): storing `null` then is
  // no change either.
  if (current.text != nullptr ? *current.text == json : json == "null") {
    return current.generation;
  }
  auto next = std::make_shared<const std::string>(std::move(json));
  MutexLock lock(&mu_);
  documents_[which].text = std::move(next);
  documents_[which].generation = current.generation + 1;
  // `current` still references the old text, so if this was the last
  // reference it is freed after mu_ is released, not under it.
  return current.generation + 1;
}

SettingsSnapshot SettingsCache::Snapshot() const {
  MutexLock lock(&mu_);
  SettingsSnapshot snapshot;
  snapshot.config = documents_[kConfig].text;
  snapshot.config_generation = documents_[kConfig].generation;
  snapshot.firewall_lists = documents_[kFirewallLists].text;
  snapshot.firewall_lists_generation = documents_[kFirewallLists].generation;
  return snapshot;
}

SettingsChanges SettingsCache::ChangedSince(
    std::optional<uint64_t> known_config_generation,
    std::optional<uint64_t> known_firewall_lists_generation) const {
  SettingsChanges changes;
  changes.snapshot = Snapshot();
  changes.config_changed =
      known_config_generation != changes.snapshot.config_generation;
  changes.firewall_lists_changed = known_firewall_lists_generation !=
                                   changes.snapshot.firewall_lists_generation;
  return changes;
}

}  // namespace zen
