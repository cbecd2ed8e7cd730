// The client channel's calls in flight: what a caller waits on, and the
// table that a response's id leads to. Internal to rpc::Channel.
#ifndef ZEN_RPC_PENDING_TABLE_H_
#define ZEN_RPC_PENDING_TABLE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/mutex.h"
#include "ipc/socket_stream.h"
#include "rpc/channel.h"
#include "rpc/raw_result.h"

namespace zen::rpc::internal {

// A call waiting for its response. A synchronous call's lives on its
// caller's stack, an asynchronous call's on the heap until its callback ran.
//
// Ownership of the completion: whoever removes the call from the
// PendingTable (the reader that got its response, the caller at its
// deadline, a lost connection, Stop) is the only one to complete it. A
// synchronous caller returns (and its Pending dies) once it sees `done`, so
// a completer touches nothing after its last unlock of `mu`.
struct Pending {
  // Set before the call is registered, then read-only.
  uint64_t number = 0;      // The id's decimal suffix; the table's key.
  absl::Time deadline;      // Absolute.
  uint64_t generation = 0;  // The connection it was sent on.
  std::shared_ptr<ipc::SocketStream> stream;  // That connection.
  ResultCallback callback;  // Async calls: run once done. Empty when sync.

  // Async calls: their entry in Impl::async_deadlines_, guarded by Impl::mu_.
  std::multimap<absl::Time, Pending*>::iterator async_entry;
  bool in_async_index = false;

  Mutex mu;
  CondVar cv;  // Sync calls: done, or offered the reading token.
  bool done ABSL_GUARDED_BY(mu) = false;
  absl::StatusOr<RawResult> result ABSL_GUARDED_BY(mu){
      absl::UnknownError("pending")};
  // Sync calls blocked as followers: waiting_for_token says it may be
  // offered the reading token; offered says a leaving leader did.
  bool waiting_for_token ABSL_GUARDED_BY(mu) = false;
  bool offered ABSL_GUARDED_BY(mu) = false;
};

// The calls waiting for a response, by id number. Sharded by number so that
// registering and completing a call take one small lock that concurrent
// callers rarely share, never the channel-wide one.
//
// Not registered with the fork guard: a forked child never touches the table
// (AbandonAfterFork leaks it), so a shard lock held at fork() does no harm.
// Lock order: Impl::mu_, then a shard, then a Pending's mu. Thread-safe.
class PendingTable {
 public:
  // Inserts `p` unless `still_live()`, evaluated under the shard's lock,
  // returns false. Whoever ends a connection first makes still_live() false
  // and then scans every shard, so a call is either refused here or found by
  // that scan; none is left behind.
  template <typename Pred>
  bool InsertIf(Pending* p, Pred still_live) {
    Shard& shard = ShardOf(p->number);
    MutexLock lock(&shard.mu);
    if (!still_live()) return false;
    shard.calls.emplace(p->number, p);
    return true;
  }

  // Removes and returns the call with this number; nullptr if none.
  Pending* Take(uint64_t number) {
    Shard& shard = ShardOf(number);
    MutexLock lock(&shard.mu);
    auto it = shard.calls.find(number);
    if (it == shard.calls.end()) return nullptr;
    Pending* p = it->second;
    shard.calls.erase(it);
    return p;
  }

  // Removes every call for which `pred(p)` holds and appends it to `out`.
  template <typename Pred>
  void TakeIf(Pred pred, std::vector<Pending*>* out) {
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
    absl::flat_hash_map<uint64_t, Pending*> calls ABSL_GUARDED_BY(mu);
  };
  Shard& ShardOf(uint64_t number) { return shards_[number % kShards]; }

  std::array<Shard, kShards> shards_;
};

}  // namespace zen::rpc::internal

#endif  // ZEN_RPC_PENDING_TABLE_H_
