// A string-keyed map with a fixed capacity that evicts the least recently
// used entry to make room. Bounds the memory of everything the agent keeps
// per attacker-chosen key (routes, users, hosts, rate-limit windows).
//
// Lookups take absl::string_view and do not allocate; each key is stored
// once (the index refers to the key inside its list node, which never
// moves). Not thread-safe: owners lock around it.
#ifndef ZEN_BASE_LRU_MAP_H_
#define ZEN_BASE_LRU_MAP_H_

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <list>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace zen {

template <typename Value>
class LruMap {
 public:
  struct Entry {
    std::string key;
    Value value;
  };

  struct FindOrInsertResult {
    Value* value;   // never null; valid until the entry is evicted or erased
    bool inserted;  // the key was not there; `*value` is Value()
    bool evicted;   // another entry was evicted to make room
  };

  // `capacity` is the most entries ever held; 0 is taken as 1.
  explicit LruMap(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}
  LruMap(const LruMap&) = delete;
  LruMap& operator=(const LruMap&) = delete;

  // Finds `key` and makes it the most recently used; nullptr if absent.
  Value* Find(absl::string_view key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    Touch(it->second);
    return &it->second->value;
  }

  // Like Find, but inserts Value() when absent, first evicting the least
  // recently used entry if the map is full.
  FindOrInsertResult FindOrInsert(absl::string_view key) {
    if (Value* value = Find(key)) return {value, false, false};
    // Copied before evicting: `key` may point into the evicted entry.
    std::string owned_key(key);
    bool evicted = false;
    if (entries_.size() >= capacity_) {
      PopLeastRecent();
      evicted = true;
    }
    entries_.push_front(Entry{std::move(owned_key), Value()});
    index_.emplace(entries_.front().key, entries_.begin());
    return {&entries_.front().value, true, evicted};
  }

  // Removes `key`; returns whether it was there.
  bool Erase(absl::string_view key) {
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    auto entry = it->second;
    index_.erase(it);  // before the node that holds the key's bytes
    entries_.erase(entry);
    return true;
  }

  // The least recently used entry, or nullptr when empty. Does not count as
  // a use.
  Entry* LeastRecent() { return entries_.empty() ? nullptr : &entries_.back(); }

  void PopLeastRecent() {
    if (entries_.empty()) return;
    index_.erase(absl::string_view(entries_.back().key));
    entries_.pop_back();
  }

  // Calls `fn(const Entry&)` from the most to the least recently used.
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (const Entry& entry : entries_) fn(entry);
  }

  void Clear() {
    index_.clear();
    entries_.clear();
  }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  size_t capacity() const { return capacity_; }

 private:
  using List = std::list<Entry>;

  void Touch(typename List::iterator entry) {
    // splice keeps the node (and so the key the index points at) in place.
    entries_.splice(entries_.begin(), entries_, entry);
  }

  const size_t capacity_;
  List entries_;  // most recently used first
  absl::flat_hash_map<absl::string_view, typename List::iterator> index_;
};

}  // namespace zen

#endif  // ZEN_BASE_LRU_MAP_H_
