#include "rpc/channel.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/clock.h"
#include "base/fork_guard.h"
#include "base/log.h"
#include "base/mutex.h"
#include "base/thread_group.h"
#include "ipc/crypto.h"
#include "rpc/call_id.h"
#include "rpc/envelope.h"
#include "rpc/json_writer.h"
#include "rpc/pending_table.h"

namespace zen::rpc {
namespace {

// A copy of `status` with a representation of its own. absl::Status copies
// share one reference-counted representation, and the last owner frees it;
// Debian's Abseil is not built with ThreadSanitizer, so the atomic count
// that orders those frees after other threads' reads is invisible to it and
// every error handed to several waiting calls at once reads as a race. A
// deep copy per call costs one small allocation on a failure path only.
absl::Status Unshared(const absl::Status& status) {
  return absl::Status(status.code(), std::string(status.message()));
}

// While asynchronous calls wait, the reading thread wakes at least this
// often to expire those whose deadline passed (one may have been made, with
// a sooner deadline, while it was blocked in a read).
constexpr absl::Duration kAsyncExpirySlice = absl::Milliseconds(20);

}  // namespace

using internal::CallId;
using internal::ParseIdNumber;
using internal::Pending;
using internal::PendingTable;
using internal::RandomIdPrefix;

// Reading is a token passed among threads (leader/follower): a synchronous
// caller whose response has not arrived takes the token if it is free and
// reads for everyone, so a caller alone in flight reads its own response with
// no thread hand-off and no signalling. A leader that leaves offers the token
// to one blocked follower (not all of them); the async thread takes it while
// asynchronous calls wait and no synchronous caller reads.
//
// Locks: `mu_` guards the connection state and the asynchronous calls'
// deadline index, and is taken once per synchronous call (to send). Calls
// are found through the sharded PendingTable, and a caller sleeps on its own
// Pending, so delivering a response wakes exactly its caller.
class Channel::Impl {
 public:
  Impl(const ipc::Secret* secret, ChannelOptions options)
      : secret_(secret),
        options_(std::move(options)),
        id_prefix_(RandomIdPrefix()),
        policy_(options_.reconnect_policy) {}

  ~Impl() { Stop(); }

  absl::Status ConnectNow() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::StatusOr<std::unique_ptr<ipc::SocketStream>> stream =
        ipc::Connect(*secret_, options_.connector);
    if (!stream.ok()) return stream.status();
    MutexLock lock(&mu_);
    SetStreamLocked(std::move(*stream));
    return absl::OkStatus();
  }

  void StartThreads() {
    threads_.Spawn([this] { AsyncReaderLoop(); });
    if (options_.reconnect) threads_.Spawn([this] { ReconnectLoop(); });
    if (options_.keepalive_interval > absl::ZeroDuration()) {
      threads_.Spawn([this] { KeepaliveLoop(); });
    }
  }

  absl::StatusOr<RawResult> Call(absl::string_view method,
                                 absl::string_view args,
                                 absl::string_view kwargs,
                                 const CallOptions& options)
      ABSL_LOCKS_EXCLUDED(mu_) {
    Pending pending;
    pending.deadline = Deadline(options);
    absl::Status sent = Send(method, args, kwargs, options, &pending);
    if (!sent.ok()) return sent;
    return Wait(&pending);
  }

  void CallAsync(absl::string_view method, absl::string_view args,
                 absl::string_view kwargs, const CallOptions& options,
                 ResultCallback done) ABSL_LOCKS_EXCLUDED(mu_) {
    if (!done) done = [](absl::StatusOr<RawResult>) {};  // Still async.
    auto* pending = new Pending;
    pending->deadline = Deadline(options);
    pending->callback = std::move(done);
    absl::Status sent = Send(method, args, kwargs, options, pending);
    if (!sent.ok()) {
      ResultCallback callback = std::move(pending->callback);
      delete pending;
      callback(sent);
      return;
    }
    MutexLock lock(&mu_);
    async_wake_.SignalAll();  // The async reader may need to take the token.
  }

  void Stop() ABSL_LOCKS_EXCLUDED(mu_) {
    std::vector<Pending*> failed;
    {
      MutexLock lock(&mu_);
      if (!stopped_) {
        stopped_ = true;
        live_generation_.store(0);
        if (stream_ != nullptr) stream_->Shutdown();
        stream_ = nullptr;
        FailLocked([](Pending*) { return true; },
                   absl::CancelledError("channel stopped"), &failed);
      }
      async_wake_.SignalAll();
      state_changed_.SignalAll();
      keepalive_wake_.SignalAll();
    }
    RunCallbacks(failed);
    connecting_.Cancel();
    threads_.JoinAll();
  }

  bool connected() const ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    return stream_ != nullptr;
  }

  void AbandonAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (stream_ != nullptr) stream_->CloseAfterFork();
    // The parent's calls are not ours; their Pending objects are leaked
    // with this object.
    threads_.AbandonAfterFork();
  }

 private:
  absl::Time Deadline(const CallOptions& options) const {
    return options.deadline == absl::InfiniteFuture()
               ? zen::Now() + options_.default_timeout
               : options.deadline;
  }

  // Registers `pending` under a fresh id and writes the request. Once it
  // returns OK, the outcome (a failed write included) arrives through the
  // normal completion path: Wait, or the callback.
  absl::Status Send(absl::string_view method, absl::string_view args,
                    absl::string_view kwargs, const CallOptions& options,
                    Pending* pending) ABSL_LOCKS_EXCLUDED(mu_) {
    // Once registered, `pending` may be completed (and, for an async call,
    // freed) by another thread at any moment: what the write needs is copied
    // before (number, deadline) or by Register under mu_ (stream,
    // generation), never read from `pending` after.
    const uint64_t number =
        next_id_.fetch_add(1, std::memory_order_relaxed) + 1;
    const absl::Time deadline = pending->deadline;
    pending->number = number;
    std::shared_ptr<ipc::SocketStream> stream;
    uint64_t generation = 0;
    absl::Status registered =
        Register(pending, options.wait_for_ready, &stream, &generation);
    if (!registered.ok()) return registered;
    const CallId id(id_prefix_, number);
    const std::string method_json = JsonString(method);
    RequestParts parts(id.view(), method_json, args, kwargs);
    absl::Status written = stream->Write(parts.parts(), deadline);
    if (!written.ok()) FailSend(number, generation, written);
    return absl::OkStatus();
  }

  // Waits for the connection if asked to, then puts `p` in the table (and,
  // when asynchronous, in the deadline index). Sets *stream and *generation
  // to the connection it was registered on.
  absl::Status Register(Pending* p, bool wait_for_ready,
                        std::shared_ptr<ipc::SocketStream>* stream,
                        uint64_t* generation) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      MutexLock lock(&mu_);
      for (;;) {
        if (stopped_) return absl::CancelledError("channel stopped");
        if (stream_ != nullptr) break;
        if (!wait_for_ready) {
          return absl::UnavailableError("not connected to the server");
        }
        if (!state_changed_.WaitUntil(&mu_, p->deadline) &&
            zen::Now() >= p->deadline) {
          return absl::DeadlineExceededError(
              "deadline exceeded while waiting for the connection");
        }
      }
      p->stream = stream_;
      p->generation = generation_;
      *stream = stream_;
      *generation = generation_;
      last_call_ = zen::Now();
      // Asynchronous calls enter table and index together under mu_, so
      // that ExpireAsyncLocked finds every indexed call in the table unless
      // a completer already took it.
      if (p->callback) {
        table_.InsertIf(p, [] { return true; });
        p->async_entry = async_deadlines_.emplace(p->deadline, p);
        p->in_async_index = true;
        async_waiting_.fetch_add(1);
        return absl::OkStatus();
      }
    }
    if (table_.InsertIf(
            p, [&] { return live_generation_.load() == *generation; })) {
      return absl::OkStatus();
    }
    // The connection was lost (or the channel stopped) since we looked.
    MutexLock lock(&mu_);
    if (stopped_) return absl::CancelledError("channel stopped");
    return absl::UnavailableError("connection lost");
  }

  // The write of call `number` failed: completes the call with that error
  // unless someone else already did, and ends the connection unless nothing
  // was sent.
  void FailSend(uint64_t number, uint64_t generation,
                const absl::Status& written) ABSL_LOCKS_EXCLUDED(mu_) {
    std::vector<Pending*> completed;
    const absl::Status lost = absl::UnavailableError(
        absl::StrCat("connection lost: ", written.message()));
    if (Pending* p = table_.Take(number); p != nullptr) {
      const bool keeps_code = absl::IsResourceExhausted(written) ||
                              absl::IsDeadlineExceeded(written);
      Complete(p, Unshared(keeps_code ? written : lost), nullptr, &completed);
    }
    if (!absl::IsResourceExhausted(written) &&
        !absl::IsDeadlineExceeded(written)) {
      // A frame cut short (or a dead socket) ends this connection; one
      // refused whole (too large, or no room before the deadline) does not.
      LoseConnection(generation, lost, &completed);
    }
    RunCallbacks(completed);
  }

  // Waits for a synchronous call, reading for everyone when the token is free.
  absl::StatusOr<RawResult> Wait(Pending* p) ABSL_LOCKS_EXCLUDED(mu_) {
    for (;;) {
      {
        MutexLock lock(&p->mu);
        if (p->done) break;
      }
      if (zen::Now() >= p->deadline) {
        if (table_.Take(p->number) == p) {
          PassOnFreeToken();
          return absl::DeadlineExceededError("call timed out");
        }
        // Another thread took the call and is completing it right now.
        WaitUntilDone(p, absl::InfiniteFuture());
        break;
      }
      if (live_generation_.load() != p->generation) {
        // Its connection is gone: the thread that ended it fails the call.
        WaitUntilDone(p, p->deadline);
        continue;
      }
      if (TryTakeToken() || FollowUntilOffered(p)) {
        LeadReading(p, p->stream, p->generation);
      }
    }
    PassOnFreeToken();
    MutexLock lock(&p->mu);
    return std::move(p->result);
  }

  void WaitUntilDone(Pending* p, absl::Time deadline) {
    MutexLock lock(&p->mu);
    while (!p->done) {
      if (!p->cv.WaitUntil(&p->mu, deadline)) break;
    }
  }

  bool TryTakeToken() {
    bool free = false;
    return reading_.compare_exchange_strong(free, true);
  }

  // Blocks as a follower until `p` is done, its deadline passes, or a
  // leaving leader offers it the token. Returns true if it took the token
  // before blocking.
  bool FollowUntilOffered(Pending* p) {
    {
      MutexLock lock(&p->mu);
      if (p->done) return false;
      p->waiting_for_token = true;
    }
    // Announce first, then look again: a leader that frees the token after
    // our look sees the announcement and offers it (see ReleaseToken).
    followers_.fetch_add(1);
    bool took = TryTakeToken();
    {
      MutexLock lock(&p->mu);
      while (!took && !p->done && !p->offered) {
        if (!p->cv.WaitUntil(&p->mu, p->deadline)) break;
      }
      p->waiting_for_token = false;
      p->offered = false;
    }
    followers_.fetch_sub(1);
    // Offered or not, the caller's loop tries to take the token next.
    return took;
  }

  void ReleaseToken() {
    reading_.store(false);
    PassOnFreeToken();
    if (async_waiting_.load() > 0) {
      MutexLock lock(&mu_);
      async_wake_.SignalAll();
    }
  }

  // If the token is free while followers sleep, wakes one of them to take
  // it. Called by a leader that leaves, and by a follower that leaves (it
  // may have been the one offered the token).
  void PassOnFreeToken() {
    if (followers_.load() == 0 || reading_.load()) return;
    table_.FindIf([](Pending* p) {
      MutexLock lock(&p->mu);
      if (!p->waiting_for_token || p->done) return false;
      p->offered = true;
      p->cv.Signal();
      return true;
    });
  }

  // Holds the reading token (taken by the caller) until `mine` is done or
  // its deadline passes (mine == nullptr: until no asynchronous call waits),
  // then releases it.
  void LeadReading(Pending* mine, std::shared_ptr<ipc::SocketStream> stream,
                   uint64_t generation) ABSL_LOCKS_EXCLUDED(mu_) {
    std::vector<Pending*> completed;
    ResponseView response;  // Reused: its id keeps its capacity.
    for (;;) {
      RunCallbacks(completed);
      completed.clear();
      if (mine != nullptr ? IsDone(mine) : async_waiting_.load() == 0) break;
      if (live_generation_.load() != generation) break;
      absl::Time deadline =
          mine != nullptr ? mine->deadline : absl::InfiniteFuture();
      {
        // Asked in one hold of mu_: the async calls may all complete
        // meanwhile, and the async reader must then leave rather than read
        // without a deadline.
        MutexLock lock(&mu_);
        if (async_deadlines_.empty()) {
          if (mine == nullptr) break;
        } else {
          // A call registered while we read may expire sooner than what we
          // read toward; only the reader can expire it, so read in slices.
          deadline = std::min({deadline, async_deadlines_.begin()->first,
                               zen::Now() + kAsyncExpirySlice});
        }
      }
      absl::StatusOr<ipc::Frame> frame = stream->Read(deadline);
      if (!frame.ok()) {
        if (absl::IsDeadlineExceeded(frame.status())) {
          ExpireAsync(&completed);
          if (mine != nullptr && zen::Now() >= mine->deadline) break;
          continue;
        }
        // An oversized frame from the server makes the stream unusable:
        // every call on it is lost, which is UNAVAILABLE for them.
        LoseConnection(generation,
                       absl::UnavailableError(absl::StrCat(
                           "connection lost: ", frame.status().message())),
                       &completed);
        break;
      }
      Deliver(*std::move(frame), generation, mine, &response, &completed);
    }
    ReleaseToken();
    RunCallbacks(completed);
  }

  static bool IsDone(Pending* p) {
    MutexLock lock(&p->mu);
    return p->done;
  }

  void Deliver(ipc::Frame frame, uint64_t generation, Pending* mine,
               ResponseView* response, std::vector<Pending*>* completed)
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::Status parsed = EnvelopeParser::ThreadLocal(options_.max_json_depth)
                              .ParseResponse(frame.body, response);
    if (!parsed.ok()) {
      if (absl::IsInvalidArgument(parsed)) return;  // Wrong shape: ignored.
      LogError("RPC client error: ", parsed.message());
      LoseConnection(generation, parsed, completed);
      return;
    }
    const uint64_t number = ParseIdNumber(response->id, id_prefix_);
    Pending* p = number == 0 ? nullptr : table_.Take(number);
    if (p == nullptr) return;  // Late (timed out), unknown: ignored.
    if (response->error.ok()) {
      Complete(p, RawResult(std::move(frame), response->result), mine,
               completed);
    } else {
      // Moved, not copied: the reading thread's view must not keep a
      // share of the caller's status (see Unshared).
      Complete(p, std::move(response->error), mine, completed);
    }
  }

  // Completes `p`, which the caller took from the table. A synchronous call
  // is woken, unless it is `mine` (the reading caller itself, awake); an
  // asynchronous one leaves the deadline index and is appended to
  // `completed`, for RunCallbacks outside any lock.
  void Complete(Pending* p, absl::StatusOr<RawResult> result, Pending* mine,
                std::vector<Pending*>* completed) ABSL_LOCKS_EXCLUDED(mu_) {
    if (p->callback) {
      MutexLock lock(&mu_);
      CompleteAsyncLocked(p, std::move(result), completed);
      return;
    }
    MutexLock lock(&p->mu);
    p->result = std::move(result);
    p->done = true;
    if (p != mine) p->cv.Signal();
  }

  void CompleteLocked(Pending* p, absl::StatusOr<RawResult> result,
                      std::vector<Pending*>* completed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (p->callback) {
      CompleteAsyncLocked(p, std::move(result), completed);
      return;
    }
    MutexLock lock(&p->mu);
    p->result = std::move(result);
    p->done = true;
    p->cv.Signal();
  }

  void CompleteAsyncLocked(Pending* p, absl::StatusOr<RawResult> result,
                           std::vector<Pending*>* completed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (p->in_async_index) async_deadlines_.erase(p->async_entry);
    p->in_async_index = false;
    async_waiting_.fetch_sub(1);
    {
      MutexLock lock(&p->mu);  // No one else holds it: for the annotation.
      p->result = std::move(result);
      p->done = true;
    }
    completed->push_back(p);
  }

  // Takes every call matching `pred` out of the table and fails it.
  template <typename Pred>
  void FailLocked(Pred pred, const absl::Status& status,
                  std::vector<Pending*>* completed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<Pending*> taken;
    table_.TakeIf(pred, &taken);
    for (Pending* p : taken) CompleteLocked(p, Unshared(status), completed);
  }

  void LoseConnection(uint64_t generation, const absl::Status& status,
                      std::vector<Pending*>* completed)
      ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    LoseConnectionLocked(generation, status, completed);
  }

  void LoseConnectionLocked(uint64_t generation, const absl::Status& status,
                            std::vector<Pending*>* completed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (generation != generation_ || stream_ == nullptr) return;
    LogInfo("RPC client disconnected: ", status.message());
    // First refuse new registrations on it (PendingTable::InsertIf), then
    // fail what was registered: those calls can never be answered now.
    live_generation_.store(0);
    stream_->Shutdown();
    stream_ = nullptr;
    FailLocked([generation](Pending* p) { return p->generation == generation; },
               status, completed);
    state_changed_.SignalAll();
  }

  void SetStreamLocked(std::unique_ptr<ipc::SocketStream> stream)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    stream_ = std::shared_ptr<ipc::SocketStream>(std::move(stream));
    ++generation_;
    live_generation_.store(generation_);
  }

  absl::Time EarliestAsyncDeadlineLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return async_deadlines_.empty() ? absl::InfiniteFuture()
                                    : async_deadlines_.begin()->first;
  }

  void ExpireAsync(std::vector<Pending*>* completed) ABSL_LOCKS_EXCLUDED(mu_) {
    if (async_waiting_.load() == 0) return;
    MutexLock lock(&mu_);
    ExpireAsyncLocked(completed);
  }

  void ExpireAsyncLocked(std::vector<Pending*>* completed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const absl::Time now = zen::Now();
    while (!async_deadlines_.empty() &&
           async_deadlines_.begin()->first <= now) {
      Pending* p = async_deadlines_.begin()->second;
      if (table_.Take(p->number) == p) {
        CompleteAsyncLocked(p, absl::DeadlineExceededError("call timed out"),
                            completed);
      } else {
        // A completer took it and waits for mu_ to finish: it must not
        // find the entry again, and we must not see it as due forever.
        async_deadlines_.erase(p->async_entry);
        p->in_async_index = false;
      }
    }
  }

  // Runs and frees completed asynchronous calls. Sync ones are not listed.
  static void RunCallbacks(const std::vector<Pending*>& completed)
      ABSL_NO_THREAD_SAFETY_ANALYSIS {  // Sole owner of each `p` by now.
    for (Pending* p : completed) {
      ResultCallback callback = std::move(p->callback);
      absl::StatusOr<RawResult> result = std::move(p->result);
      delete p;
      callback(std::move(result));
    }
  }

  void AsyncReaderLoop() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    while (!stopped_) {
      if (async_waiting_.load() > 0 && stream_ != nullptr && TryTakeToken()) {
        std::shared_ptr<ipc::SocketStream> stream = stream_;
        const uint64_t generation = generation_;
        mu_.Unlock();
        LeadReading(nullptr, std::move(stream), generation);
        mu_.Lock();
        continue;
      }
      if (async_waiting_.load() > 0) {
        // Another thread reads (or there is no connection): expiring calls
        // needs no token, so asynchronous deadlines hold either way.
        std::vector<Pending*> completed;
        ExpireAsyncLocked(&completed);
        if (!completed.empty()) {
          mu_.Unlock();
          RunCallbacks(completed);
          mu_.Lock();
          continue;
        }
        async_wake_.WaitUntil(&mu_, EarliestAsyncDeadlineLocked());
        continue;
      }
      async_wake_.Wait(&mu_);
    }
  }

  void ReconnectLoop() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    while (!stopped_) {
      if (stream_ != nullptr) {
        state_changed_.Wait(&mu_);
        continue;
      }
      const absl::Time retry_at = zen::Now() + policy_.NextDelay();
      while (!stopped_ && zen::Now() < retry_at) {
        state_changed_.WaitUntil(&mu_, retry_at);
      }
      if (stopped_) break;
      mu_.Unlock();
      // Stop() cancels it: a wedged server must not hold Stop for the
      // connect and handshake timeouts.
      absl::StatusOr<std::unique_ptr<ipc::SocketStream>> stream = ipc::Connect(
          *secret_, options_.connector, absl::InfiniteFuture(), &connecting_);
      mu_.Lock();
      if (!stream.ok()) {
        LogInfo("RPC client: reconnect failed: ", stream.status().message());
        continue;
      }
      if (stopped_) break;
      SetStreamLocked(std::move(*stream));
      policy_.Reset();
      LogInfo("RPC client connected");
      state_changed_.SignalAll();
      async_wake_.SignalAll();
    }
  }

  void KeepaliveLoop() ABSL_LOCKS_EXCLUDED(mu_) {
    const absl::Duration interval = options_.keepalive_interval;
    MutexLock lock(&mu_);
    while (!stopped_) {
      const absl::Time due = last_call_ + interval;
      if (zen::Now() < due) {
        keepalive_wake_.WaitUntil(&mu_, due);
        continue;
      }
      const bool connected = stream_ != nullptr;
      last_call_ = zen::Now();
      if (!connected) continue;
      const uint64_t generation = generation_;
      mu_.Unlock();
      absl::StatusOr<RawResult> result =
          Call("ping", "[]", "{}", CallOptions::WithTimeout(interval));
      if (!result.ok() && !absl::IsCancelled(result.status())) {
        LogWarning("keepalive failed: ", result.status().message());
      }
      mu_.Lock();
      if (absl::IsDeadlineExceeded(result.status())) {
        // A peer that cannot answer a ping within the interval is taken for
        // dead: drop the connection so the reconnect loop takes over.
        std::vector<Pending*> completed;
        LoseConnectionLocked(
            generation,
            absl::UnavailableError("keepalive: server not answering"),
            &completed);
        mu_.Unlock();
        RunCallbacks(completed);
        mu_.Lock();
      }
    }
  }

 private:
  const ipc::Secret* const secret_;  // Not owned.
  const ChannelOptions options_;
  const std::string id_prefix_;

  mutable Mutex mu_;
  CondVar state_changed_;   // Connected, disconnected or stopped.
  CondVar async_wake_;      // Work for the async reader.
  CondVar keepalive_wake_;  // Stop.
  std::shared_ptr<ipc::SocketStream> stream_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_call_ ABSL_GUARDED_BY(mu_) = zen::Now();
  // Asynchronous calls by deadline, for expiry without a scan.
  std::multimap<absl::Time, Pending*> async_deadlines_ ABSL_GUARDED_BY(mu_);
  ipc::ReconnectPolicy policy_ ABSL_GUARDED_BY(mu_);

  // Read without mu_ on every call. Written under mu_ where they change
  // with the state above.
  std::atomic<uint64_t> live_generation_{0};  // generation_, or 0 if none.
  std::atomic<size_t> async_waiting_{0};      // Asynchronous calls pending.
  // Lock-free by design: taken by compare-and-swap, released by a store.
  std::atomic<bool> reading_{false};  // The reading token is held.
  std::atomic<int> followers_{0};     // Sync callers blocked for the token.
  std::atomic<uint64_t> next_id_{0};

  PendingTable table_;
  ForkGuardRegistration fork_guard_{&mu_};
  ipc::ConnectCanceller connecting_;  // The reconnect in progress.
  ThreadGroup threads_;
};
absl::StatusOr<std::unique_ptr<Channel>> Channel::Create(
    const ipc::Secret* secret, ChannelOptions options) {
  if (secret == nullptr || secret->empty()) {
    return absl::InvalidArgumentError("channel: no secret");
  }
  auto impl = std::make_unique<Impl>(secret, std::move(options));
  absl::Status connected = impl->ConnectNow();
  if (!connected.ok()) return connected;
  impl->StartThreads();
  return std::unique_ptr<Channel>(new Channel(std::move(impl)));
}

Channel::Channel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Channel::~Channel() {
  if (impl_ != nullptr) Stop();
}

absl::StatusOr<RawResult> Channel::Call(absl::string_view method,
                                        absl::string_view args_json,
                                        absl::string_view kwargs_json,
                                        const CallOptions& options) {
  return impl_->Call(method, args_json, kwargs_json, options);
}

void Channel::CallAsync(absl::string_view method, absl::string_view args_json,
                        absl::string_view kwargs_json,
                        const CallOptions& options, ResultCallback done) {
  impl_->CallAsync(method, args_json, kwargs_json, options, std::move(done));
}

void Channel::Stop() { impl_->Stop(); }

bool Channel::connected() const { return impl_->connected(); }

void Channel::AbandonAfterFork() { impl_.release()->AbandonAfterFork(); }

}  // namespace zen::rpc
