// The deadlines of the client channel's asynchronous calls. Internal to
// rpc::Channel.
#ifndef ZEN_RPC_ASYNC_EXPIRY_H_
#define ZEN_RPC_ASYNC_EXPIRY_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <map>

#include "absl/time/time.h"
#include "base/clock.h"
#include "rpc/pending_call.h"

namespace zen::rpc::internal {

// A synchronous caller enforces its own deadline; an asynchronous call has
// no caller waiting, so some thread must notice when its deadline passes.
// This index holds the asynchronous calls by deadline, so that the due ones
// are found without a scan, and says how long a reader may block before it
// must look (ReadDeadline).
//
// Not thread-safe, except waiting(), which is lock-free: its owner guards it
// with its own lock (the channel's). Registration puts a call in the
// PendingTable and here in one hold of that lock; a completer takes it from the
// table first (without that lock) and then Remove()s it here, so between the
// two the call may be due here yet gone from the table: ExpireDue then only
// drops its entry.
class AsyncExpiry {
 public:
  // While asynchronous calls wait, a reader blocks at most this long at a
  // time: a call made (with a sooner deadline) while it was blocked may
  // need expiring, and only the reader or the async thread can do it.
  static constexpr absl::Duration kReadSlice = absl::Milliseconds(20);

  AsyncExpiry() = default;
  AsyncExpiry(const AsyncExpiry&) = delete;
  AsyncExpiry& operator=(const AsyncExpiry&) = delete;

  // Indexes `p`, an asynchronous call about to enter the table.
  void Add(PendingCall* p) {
    p->expiry_entry = index_.emplace(p->deadline, p);
    waiting_.fetch_add(1);
  }

  // Forgets `p`, an asynchronous call that its completer took from the
  // table (its entry may be gone already: see ExpireDue).
  void Remove(PendingCall* p) {
    if (p->expiry_entry != index_.end()) index_.erase(p->expiry_entry);
    p->expiry_entry = index_.end();
    waiting_.fetch_sub(1);
  }

  // Drops the entries due at `now`, calling `expire(p)` for each: it takes
  // `p` from the table and completes it (with kDeadlineExceeded), returning
  // true, or returns false if `p` is gone from the table (a completer holds
  // it, and will Remove it here).
  template <typename ExpireFn>
  void ExpireDue(absl::Time now, ExpireFn expire) {
    while (!index_.empty() && index_.begin()->first <= now) {
      PendingCall* p = index_.begin()->second;
      index_.erase(index_.begin());
      p->expiry_entry = index_.end();
      if (expire(p)) waiting_.fetch_sub(1);
    }
  }

  // The soonest deadline; InfiniteFuture() when none.
  absl::Time Earliest() const {
    return index_.empty() ? absl::InfiniteFuture() : index_.begin()->first;
  }

  bool empty() const { return index_.empty(); }

  // When a reader that would read until `until` must stop to expire calls:
  // `until` itself while none waits, else the soonest of `until`, the
  // earliest deadline, and kReadSlice from now.
  absl::Time ReadDeadline(absl::Time until) const {
    if (index_.empty()) return until;
    return std::min({until, index_.begin()->first, zen::Now() + kReadSlice});
  }

  // Asynchronous calls registered and not yet completed. Lock-free, for the
  // hot path: most channels never make one.
  size_t waiting() const { return waiting_.load(); }

 private:
  std::multimap<absl::Time, PendingCall*> index_;
  std::atomic<size_t> waiting_{0};
};

}  // namespace zen::rpc::internal

#endif  // ZEN_RPC_ASYNC_EXPIRY_H_
