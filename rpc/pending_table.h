// The client channel's calls in flight, by the number in their id: the
// table that a response's id leads to. Internal to rpc::Channel.
#ifndef ZEN_RPC_PENDING_TABLE_H_
#define ZEN_RPC_PENDING_TABLE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/mutex.h"
#include "rpc/pending_call.h"

namespace zen::rpc::internal {

// The calls waiting for a response, by id number. Sharded by number so that
// registering and completing a call take one small lock that concurrent
// callers rarely share, never the channel-wide one.
//
// Not registered with the fork guard: a forked child never touches the table
// (AbandonAfterFork leaks it), so a shard lock held at fork() does no harm.
// Lock order: the channel's lock, then a shard, then a PendingCall's.
// Thread-safe.
class PendingTable {
 public:
  // Inserts `p` unless `still_live()`, evaluated under the shard's lock,
  // returns false. Whoever ends a connection first makes still_live() false
  // and then scans every shard, so a call is either refused here or found by
  // that scan; none is left behind.
  template <typename Pred>
  bool InsertIf(PendingCall* p, Pred still_live) {
    Shard& shard = ShardOf(p->number);
    MutexLock lock(&shard.mu);
    if (!still_live()) return false;
    shard.calls.emplace(p->number, p);
    return true;
  }

  // Removes and returns the call with this number; nullptr if none.
  PendingCall* Take(uint64_t number) {
    Shard& shard = ShardOf(number);
    MutexLock lock(&shard.mu);
    auto it = shard.calls.find(number);
    if (it == shard.calls.end()) return nullptr;
    PendingCall* p = it->second;
    shard.calls.erase(it);
    return p;
  }

  // Removes every call for which `pred(p)` holds and appends it to `out`.
  template <typename Pred>
  void TakeIf(Pred pred, std::vector<PendingCall*>* out) {
    for (Shard& shard : shards_) {
      MutexLock lock(&shard.mu);
      for (auto it = shard.calls.begin(); it != shard.calls.end();) {
        if (pred(it->second)) {
          out->push_back(it->second);
          shard.calls.erase(it++);
        } else {
          ++it;
        }
      }
    }
  }

  // Calls `fn(p)` under the shard's lock for each call until it returns
  // true. `p` cannot be completed (nor freed) during `fn`.
  template <typename Fn>
  void FindIf(Fn fn) {
    for (Shard& shard : shards_) {
      MutexLock lock(&shard.mu);
      for (auto& [number, p] : shard.calls) {
        if (fn(p)) return;
      }
    }
  }

 private:
  static constexpr size_t kShards = 16;
  // One cache line each, so callers on different shards do not share one.
  struct alignas(64) Shard {
    Mutex mu;
    absl::flat_hash_map<uint64_t, PendingCall*> calls ABSL_GUARDED_BY(mu);
  };
  Shard& ShardOf(uint64_t number) { return shards_[number % kShards]; }

  std::array<Shard, kShards> shards_;
};

}  // namespace zen::rpc::internal

#endif  // ZEN_RPC_PENDING_TABLE_H_
