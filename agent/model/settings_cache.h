// The parent's cache of the two settings documents, kept as the JSON text
// the API sent, each with a generation number.
//
// `updated_settings` answers from here: a child sends the generations it
// knows and gets only the documents that changed, their cached bytes spliced
// into the response frame as they are (no parsing and printing per call).
// Snapshots share the cached text instead of copying it, so a reader holding
// an old snapshot keeps old, consistent bytes alive while newer ones are
// stored.
//
// Generations, as the reference counts them (docs/architecture.md, "Agent
// methods and settings"): each document's generation starts at 0 with
// nothing cached (the text pointer is null, sent as JSON `null`) and
// increases by exactly 1 whenever a stored text differs from the one before
// it. "Differs" is byte comparison: an API response re-serialized
// with other spacing or key order counts as a change; the cost is a spurious
// re-apply in the children, never a missed update. Storing `null` while
// nothing is cached is no change (the reference compares nil with nil).
#ifndef ZEN_AGENT_MODEL_SETTINGS_CACHE_H_
#define ZEN_AGENT_MODEL_SETTINGS_CACHE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "base/mutex.h"

namespace zen {

// The text of no document: what the parent sends for a document it does not
// hold (and what blank text is stored as). A worker reads it, or empty
// text, as "no document": nothing to apply, its known generation unchanged.
inline constexpr absl::string_view kNoSettingsDocument = "null";
inline bool IsSettingsDocument(absl::string_view text) {
  return !text.empty() && text != kNoSettingsDocument;
}

// One consistent view of both documents. Shares (does not copy) the text;
// the strings stay alive and unchanged as long as the snapshot does.
struct SettingsSnapshot {
  std::shared_ptr<const std::string> config;  // null: nothing cached yet
  uint64_t config_generation = 0;
  std::shared_ptr<const std::string> firewall_lists;  // null: nothing yet
  uint64_t firewall_lists_generation = 0;
};

// What `updated_settings` sends: a pair "text + generation" is included iff
// its flag is set.
struct SettingsChanges {
  bool config_changed = false;
  bool firewall_lists_changed = false;
  SettingsSnapshot snapshot;
};

// Thread-safe. Readers hold the internal lock only to copy two shared
// pointers, so they never wait for a writer's byte comparison or for the
// old text to be freed; concurrent writers are serialized among themselves.
class SettingsCache {
 public:
  SettingsCache() = default;
  SettingsCache(const SettingsCache&) = delete;
  SettingsCache& operator=(const SettingsCache&) = delete;

  // Stores a document's text as received and returns its generation after
  // the update (unchanged if `json` equals the cached text byte for byte).
  // The text is not validated: callers parse it (RuntimeSettings) before or
  // after caching, as they see fit.
  uint64_t UpdateConfig(std::string json) ABSL_LOCKS_EXCLUDED(writer_mu_, mu_);
  uint64_t UpdateFirewallLists(std::string json)
      ABSL_LOCKS_EXCLUDED(writer_mu_, mu_);

  SettingsSnapshot Snapshot() const ABSL_LOCKS_EXCLUDED(mu_);

  // The `updated_settings` decision for a child that knows these
  // generations: a document is changed iff its known generation is absent
  // (JSON null, or never received) or differs from the current one. So the
  // first poll gets both pairs, even while nothing is cached. Both flags and
  // the snapshot come from one consistent view.
  SettingsChanges ChangedSince(
      std::optional<uint64_t> known_config_generation,
      std::optional<uint64_t> known_firewall_lists_generation) const
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  enum Which { kConfig = 0, kFirewallLists = 1 };
  struct Document {
    std::shared_ptr<const std::string> text;
    uint64_t generation = 0;
  };

  uint64_t Update(Which which, std::string json)
      ABSL_LOCKS_EXCLUDED(writer_mu_, mu_);

  // Held for a whole update, so the comparison with the cached text, done
  // outside mu_, cannot race with another writer.
  Mutex writer_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable Mutex mu_;
  Document documents_[2] ABSL_GUARDED_BY(mu_);
};

}  // namespace zen

#endif  // ZEN_AGENT_MODEL_SETTINGS_CACHE_H_
