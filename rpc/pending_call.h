// A client call waiting for its response, and the life it goes through.
// Internal to rpc::Channel.
#ifndef ZEN_RPC_PENDING_CALL_H_
#define ZEN_RPC_PENDING_CALL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/mutex.h"
#include "ipc/socket_stream.h"
#include "rpc/method_metrics.h"
#include "rpc/raw_result.h"

namespace zen::rpc::internal {

// Where a call is in its life. Every call starts kWaiting and ends kDone;
// only a synchronous call's caller sleeps, so only it passes through the
// other three:
//
//   kWaiting -> kFollowing -> kOffered -> kWaiting  offered the reading token
//   kWaiting -> kFollowing -> kWaiting              took it, or its deadline
//   kWaiting -> kSleeping -> kWaiting               its deadline
//   any of them -> kDone                            the outcome is set
enum class CallState {
  kWaiting,    // Sent, no outcome yet; its caller (if any) is awake.
  kFollowing,  // The caller sleeps until done, and may be offered the
               // reading token by a leader that leaves it.
  kOffered,    // A leaving leader offered the caller the token: it wakes
               // to take it.
  kSleeping,   // The caller sleeps until done (or a deadline); the token is
               // not offered to it.
  kDone,       // `result` is set. Final.
};

// A call in flight. A synchronous call's lives on its caller's stack, an
// asynchronous call's on the heap until its callback ran.
//
// Ownership of the completion: whoever removes the call from the
// PendingTable (the reader that got its response, the caller at its
// deadline, a lost connection, Stop) is the only one to Complete it. A
// synchronous caller may see done() (an atomic) while Complete still holds
// `mu_`; it then takes `mu_` in TakeResult before it returns and its
// PendingCall dies, so Complete, which touches nothing after it unlocks,
// is over by then. No path may return on done() alone. Thread-safe.
class PendingCall {
 public:
  PendingCall() = default;
  PendingCall(const PendingCall&) = delete;
  PendingCall& operator=(const PendingCall&) = delete;

  // Set before the call is registered, then read-only.
  uint64_t number = 0;  // The id's decimal suffix; the table's key.
  absl::Time deadline;  // Absolute.
  // When the call was made: the one clock read of its sending side.
  absl::Time started;
  uint64_t generation = 0;                    // The connection it was sent on.
  std::shared_ptr<ipc::SocketStream> stream;  // That connection.
  // Where the call is counted (rpc/method_metrics.h), timed from
  // `started`; not owned, outlives the call.
  MethodStats* stats = nullptr;
  // Async calls: run once done (Channel's ResultCallback). Empty when sync.
  std::function<void(absl::StatusOr<RawResult>)> callback;
  // Async calls: their entry in AsyncExpiry's index, guarded by the
  // channel's lock; AsyncExpiry's business.
  std::multimap<absl::Time, PendingCall*>::iterator expiry_entry;

  bool is_async() const { return static_cast<bool>(callback); }

  // Sets the outcome. If the caller sleeps it is woken; a caller that is
  // awake (reading, say) sees kDone at its next look.
  void Complete(absl::StatusOr<RawResult> result) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    result_ = std::move(result);
    const CallState was = state_;
    state_ = CallState::kDone;
    done_.store(true, std::memory_order_release);
    if (was != CallState::kWaiting) cv_.Signal();
  }

  bool done() const {
    // Asked several times per call by its own caller: an atomic rather than
    // a lock. Set with `result` under mu_, and kDone is final.
    return done_.load(std::memory_order_acquire);
  }

  // The outcome, once done. Moves it out: call once.
  absl::StatusOr<RawResult> TakeResult() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    return std::move(result_);
  }

  // Sleeps (kSleeping) until done or `deadline`. Returns done().
  bool SleepUntilDone(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    if (state_ == CallState::kDone) return true;
    state_ = CallState::kSleeping;
    while (state_ == CallState::kSleeping) {
      if (!cv_.WaitUntil(&mu_, deadline)) break;
    }
    if (state_ == CallState::kDone) return true;
    state_ = CallState::kWaiting;
    return false;
  }

  // Follower protocol (ReadingToken::Follow). StartFollowing() makes the
  // call one that may be offered the token; false if it is done already.
  bool StartFollowing() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    if (state_ == CallState::kDone) return false;
    state_ = CallState::kFollowing;
    return true;
  }
  // If `sleep`, sleeps until done, offered the token, or the deadline; then
  // (unless done) back to kWaiting, whether or not an offer came: the
  // caller's loop tries to take the token next anyway.
  void FinishFollowing(bool sleep) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    while (sleep && state_ == CallState::kFollowing) {
      if (!cv_.WaitUntil(&mu_, deadline)) break;
    }
    if (state_ != CallState::kDone) state_ = CallState::kWaiting;
  }
  // Offers the reading token to a following caller, and wakes it. True
  // also if it was offered the token already and has not woken yet: a
  // second leaver's offer must find that one again rather than wake a
  // second follower for the one token. False (nothing done) in any other
  // state.
  bool Offer() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    if (state_ == CallState::kOffered) return true;
    if (state_ != CallState::kFollowing) return false;
    state_ = CallState::kOffered;
    cv_.Signal();
    return true;
  }

  CallState state() const ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    return state_;
  }

 private:
  mutable Mutex mu_;
  CondVar cv_;  // The caller sleeps on it (kFollowing, kSleeping).
  CallState state_ ABSL_GUARDED_BY(mu_) = CallState::kWaiting;
  std::atomic<bool> done_{false};  // state_ == kDone, readable without mu_.
  // A placeholder until Complete: a code without a message, which absl
  // keeps inline (a message would cost an allocation per call).
  absl::StatusOr<RawResult> result_ ABSL_GUARDED_BY(mu_){
      absl::Status(absl::StatusCode::kUnknown, "")};
};

// Asynchronous calls that are complete and whose callbacks are still to run:
// collected by completers, run by RunCallbacks once no lock is held.
using CompletedCalls = std::vector<PendingCall*>;

// A copy of `status` that shares nothing with it: its own rep, message and
// payloads. Copies of an absl::Status share one reference-counted rep, and
// the thread that drops the last copy frees it. The count's atomics run
// inside Debian's Abseil, which is not built with TSan, so TSan takes that
// free for a race with every read of the message made in another thread:
// a false report, and one whose suppression would hide true races on a
// status too. So a status handed from the thread that completes a call to
// the thread that made it is copied through this first.
inline absl::Status UnsharedCopy(const absl::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status copy(status.code(), status.message());
  status.ForEachPayload(
      [&copy](absl::string_view type_url, const absl::Cord& payload) {
        copy.SetPayload(type_url, absl::Cord(std::string(payload)));
      });
  return copy;
}

// Completes `p`, which the caller took from the PendingTable (and, if it is
// asynchronous, from the channel's AsyncExpiry): a sleeping caller wakes; an
// asynchronous call is appended to `completed`. A failed call gets a status
// of its own (UnsharedCopy): the completer may keep `result`'s status (a
// parsed response it reuses, a loss it fails every call with) and drop it
// at any later time. Takes only `p`'s own lock, so it serves with or
// without the channel's held.
inline void CompleteCall(PendingCall* p, absl::StatusOr<RawResult> result,
                         CompletedCalls* completed) {
  // Asked first: a synchronous caller may return, and `p` die, as soon as
  // it is complete.
  const bool async = p->is_async();
  if (!result.ok()) result = UnsharedCopy(result.status());
  p->Complete(std::move(result));
  if (async) completed->push_back(p);
}

// Runs the callbacks of `completed` calls, in order, and frees them. The
// caller is their only owner by now, and holds no lock (a callback may make
// calls).
inline void RunCallbacks(const CompletedCalls& completed) {
  for (PendingCall* p : completed) {
    auto callback = std::move(p->callback);
    absl::StatusOr<RawResult> result = p->TakeResult();
    if (p->stats != nullptr) {
      p->stats->RecordSince(result.status().code(), p->started);
    }
    delete p;
    callback(std::move(result));
  }
}

}  // namespace zen::rpc::internal

#endif  // ZEN_RPC_PENDING_CALL_H_
