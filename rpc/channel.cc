#include "rpc/channel.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/fork_guard.h"
#include "base/log.h"
#include "base/mutex.h"
#include "base/thread_group.h"
#include "rpc/async_expiry.h"
#include "rpc/call_id.h"
#include "rpc/envelope.h"
#include "rpc/json_writer.h"
#include "rpc/keepalive.h"
#include "rpc/pending_call.h"
#include "rpc/pending_table.h"
#include "rpc/reading_token.h"
#include "rpc/reconnector.h"

namespace zen::rpc {

using internal::CompleteCall;
using internal::CompletedCalls;
using internal::PendingCall;
using internal::RunCallbacks;

// The glue of the channel's pieces: a call is registered in the PendingTable
// and written by its caller; responses are read by the ReadingToken's holder
// (a synchronous caller, or the async thread while only asynchronous calls
// wait) and delivered through the table; AsyncExpiry fails asynchronous
// calls at their deadline; Reconnector and Keepalive run on their threads.
//
// Locks: `mu_` guards the connection and the asynchronous calls' deadline
// index, and is taken once per synchronous call (to register it). A caller
// sleeps on its own PendingCall, so delivering a response wakes exactly its
// caller. Lock order: mu_, then a table shard, then a PendingCall's.
class Channel::Impl {
 public:
  Impl(const ipc::Secret* secret, ChannelOptions options)
      : secret_(secret),
        options_(std::move(options)),
        id_prefix_(internal::RandomIdPrefix()),
        reconnector_(options_.reconnect_policy,
                     [this](ipc::ConnectCanceller* canceller) {
                       return Connect(canceller);
                     }),
        keepalive_(options_.keepalive_interval,
                   {[this] { return live_generation_.load(); },
                    [this](absl::Duration timeout) {
                      return Call("ping", "[]", "{}",
                                  CallOptions::WithTimeout(timeout))
                          .status();
                    },
                    [this](uint64_t generation) {
                      CompletedCalls completed;
                      LoseConnection(generation,
                                     absl::UnavailableError(
                                         "keepalive: server not answering"),
                                     &completed);
                      RunCallbacks(completed);
                    }}) {}

  ~Impl() { Stop(); }

  // Connects (Stop() cancels it through `canceller`) to replace the lost
  // connection, or to make the first.
  absl::Status Connect(ipc::ConnectCanceller* canceller)
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::StatusOr<std::unique_ptr<ipc::SocketStream>> stream = ipc::Connect(
        *secret_, options_.connector, absl::InfiniteFuture(), canceller);
    if (!stream.ok()) return stream.status();
    MutexLock lock(&mu_);
    if (stopped_) return absl::CancelledError("channel stopped");
    stream_ = std::shared_ptr<ipc::SocketStream>(*std::move(stream));
    ++generation_;
    live_generation_.store(generation_);
    state_changed_.SignalAll();
    async_wake_.SignalAll();
    return absl::OkStatus();
  }

  void StartThreads() {
    threads_.Spawn([this] { AsyncReaderLoop(); });
    if (options_.reconnect) threads_.Spawn([this] { reconnector_.Run(); });
    if (options_.keepalive_interval > absl::ZeroDuration()) {
      threads_.Spawn([this] { keepalive_.Run(); });
    }
  }

  absl::StatusOr<RawResult> Call(absl::string_view method,
                                 absl::string_view args,
                                 absl::string_view kwargs,
                                 const CallOptions& options)
      ABSL_LOCKS_EXCLUDED(mu_) {
    PendingCall pending;
    pending.deadline = Deadline(options);
    absl::Status sent = Send(method, args, kwargs, options, &pending);
    if (!sent.ok()) return sent;
    return Wait(&pending);
  }

  void CallAsync(absl::string_view method, absl::string_view args,
                 absl::string_view kwargs, const CallOptions& options,
                 ResultCallback done) ABSL_LOCKS_EXCLUDED(mu_) {
    if (!done) done = [](absl::StatusOr<RawResult>) {};  // Still async.
    auto* pending = new PendingCall;
    pending->deadline = Deadline(options);
    pending->callback = std::move(done);
    absl::Status sent = Send(method, args, kwargs, options, pending);
    if (!sent.ok()) {
      const std::unique_ptr<PendingCall> unsent(pending);
      return unsent->callback(sent);
    }
    MutexLock lock(&mu_);
    async_wake_.SignalAll();  // The async reader may need to take the token.
  }

  void Stop() ABSL_LOCKS_EXCLUDED(mu_) {
    CompletedCalls failed;
    {
      MutexLock lock(&mu_);
      if (!stopped_) {
        stopped_ = true;
        live_generation_.store(0);
        if (stream_ != nullptr) stream_->Shutdown();
        stream_ = nullptr;
        FailLocked([](PendingCall*) { return true; },
                   absl::CancelledError("channel stopped"), &failed);
      }
      async_wake_.SignalAll();
      state_changed_.SignalAll();
    }
    RunCallbacks(failed);
    reconnector_.Stop();
    keepalive_.Stop();
    threads_.JoinAll();
  }

  bool connected() const ABSL_LOCKS_EXCLUDED(mu_) {
    return live_generation_.load() != 0;
  }

  void AbandonAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (stream_ != nullptr) stream_->CloseAfterFork();
    // The parent's calls are not ours; their PendingCall objects are leaked
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
                    PendingCall* pending) ABSL_LOCKS_EXCLUDED(mu_) {
    // Once registered, `pending` may be completed (an async one freed) by
    // another thread at any moment: the write reads only copies.
    const uint64_t number =
        next_id_.fetch_add(1, std::memory_order_relaxed) + 1;
    const absl::Time deadline = pending->deadline;
    pending->number = number;
    std::shared_ptr<ipc::SocketStream> stream;
    uint64_t generation = 0;
    absl::Status registered =
        Register(pending, options.wait_for_ready, &stream, &generation);
    if (!registered.ok()) return registered;
    const internal::CallId id(id_prefix_, number);
    const std::string method_json = JsonString(method);
    RequestParts parts(id.view(), method_json, args, kwargs);
    absl::Status written = stream->Write(parts.parts(), deadline);
    if (!written.ok()) FailSend(number, generation, written);
    return absl::OkStatus();
  }

  // Waits for the connection if asked to, then puts `p` in the table (and,
  // when asynchronous, in the deadline index). Sets *stream and *generation
  // to the connection it was registered on.
  absl::Status Register(PendingCall* p, bool wait_for_ready,
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
      keepalive_.NoteCall(zen::Now());
      // Asynchronous calls enter table and index in one hold of mu_, so
      // that expiry finds every indexed call in the table unless a completer
      // already took it (AsyncExpiry).
      if (p->is_async()) {
        table_.InsertIf(p, [] { return true; });
        expiry_.Add(p);
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

  // The write of call `number` failed: completes the call (unless another
  // thread did). A frame cut short (or a dead socket) ends the connection;
  // one refused whole (too large, or no room before the deadline) does not,
  // and the call keeps the write's code.
  void FailSend(uint64_t number, uint64_t generation,
                const absl::Status& written) ABSL_LOCKS_EXCLUDED(mu_) {
    const bool refused_whole =
        absl::IsResourceExhausted(written) || absl::IsDeadlineExceeded(written);
    const absl::Status lost = absl::UnavailableError(
        absl::StrCat("connection lost: ", written.message()));
    CompletedCalls completed;
    if (PendingCall* p = TakeCall(number); p != nullptr) {
      CompleteCall(p, refused_whole ? written : lost, &completed);
    }
    if (!refused_whole) LoseConnection(generation, lost, &completed);
    RunCallbacks(completed);
  }

  // Waits for a synchronous call, reading for everyone when the token is free.
  absl::StatusOr<RawResult> Wait(PendingCall* p) ABSL_LOCKS_EXCLUDED(mu_) {
    while (!p->done()) {
      if (zen::Now() >= p->deadline) {
        if (table_.Take(p->number) == p) {
          PassOnToken();  // We may have been offered it.
          return absl::DeadlineExceededError("call timed out");
        }
        // Another thread took the call and is completing it right now.
        p->SleepUntilDone(absl::InfiniteFuture());
        break;
      }
      if (live_generation_.load() != p->generation) {
        // Its connection is gone: the thread that ended it fails the call.
        p->SleepUntilDone(p->deadline);
        continue;
      }
      if (token_.TryTake() || token_.Follow(p)) {
        LeadReading(p, p->stream, p->generation);
      }
    }
    PassOnToken();
    return p->TakeResult();
  }

  // Offers the token, if free, to one sleeping follower.
  void PassOnToken() {
    token_.PassOn(
        [this] { table_.FindIf([](PendingCall* p) { return p->Offer(); }); });
  }

  void ReleaseToken() ABSL_LOCKS_EXCLUDED(mu_) {
    token_.Release();
    PassOnToken();
    if (AsyncWaiting() > 0) {
      MutexLock lock(&mu_);
      async_wake_.SignalAll();  // The async reader may take the token.
    }
  }

  // Holds the reading token (taken by the caller) until `mine` is done or
  // its deadline passes (mine == nullptr: until no asynchronous call waits),
  // then releases it.
  void LeadReading(PendingCall* mine, std::shared_ptr<ipc::SocketStream> stream,
                   uint64_t generation) ABSL_LOCKS_EXCLUDED(mu_) {
    CompletedCalls completed;
    ResponseView response;  // Reused: its id keeps its capacity.
    for (;;) {
      RunCallbacks(completed);
      completed.clear();
      if (mine != nullptr ? mine->done() : AsyncWaiting() == 0) break;
      if (live_generation_.load() != generation) break;
      absl::Time deadline =
          mine != nullptr ? mine->deadline : absl::InfiniteFuture();
      {
        // Asked in one hold of mu_: the async calls may all complete
        // meanwhile, and the async reader must then leave rather than read
        // without a deadline.
        MutexLock lock(&mu_);
        if (mine == nullptr && expiry_.empty()) break;
        deadline = expiry_.ReadDeadline(deadline);
      }
      absl::StatusOr<ipc::Frame> frame = stream->Read(deadline);
      if (!frame.ok()) {
        if (absl::IsDeadlineExceeded(frame.status())) {
          if (AsyncWaiting() > 0) {
            MutexLock lock(&mu_);
            ExpireAsyncLocked(&completed);
          }
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
      Deliver(*std::move(frame), generation, &response, &completed);
    }
    ReleaseToken();
    RunCallbacks(completed);
  }

  void Deliver(ipc::Frame frame, uint64_t generation, ResponseView* response,
               CompletedCalls* completed) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::Status parsed = EnvelopeParser::ThreadLocal(options_.max_json_depth)
                              .ParseResponse(frame.body, response);
    if (!parsed.ok()) {
      if (absl::IsInvalidArgument(parsed)) return;  // Wrong shape: ignored.
      LogError("RPC client error: ", parsed.message());
      LoseConnection(generation, parsed, completed);
      return;
    }
    const uint64_t number = internal::ParseIdNumber(response->id, id_prefix_);
    PendingCall* p = number == 0 ? nullptr : TakeCall(number);
    if (p == nullptr) return;  // Late (timed out), unknown: ignored.
    if (response->error.ok()) {
      CompleteCall(p, RawResult(std::move(frame), response->result), completed);
    } else {
      CompleteCall(p, response->error, completed);
    }
  }

  // Takes call `number` from the table (and, if asynchronous, from the
  // deadline index), for the caller to Complete. nullptr if it is not there.
  PendingCall* TakeCall(uint64_t number) ABSL_LOCKS_EXCLUDED(mu_) {
    PendingCall* p = table_.Take(number);
    if (p != nullptr && p->is_async()) {
      MutexLock lock(&mu_);
      expiry_.Remove(p);
    }
    return p;
  }

  // Takes every call matching `pred` out of the table and fails it.
  template <typename Pred>
  void FailLocked(Pred pred, const absl::Status& status,
                  CompletedCalls* completed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    CompletedCalls taken;
    table_.TakeIf(pred, &taken);
    for (PendingCall* p : taken) {
      if (p->is_async()) expiry_.Remove(p);
      CompleteCall(p, status, completed);
    }
  }

  // Ends connection `generation` (if it is still the live one) and fails
  // every call sent on it.
  void LoseConnection(uint64_t generation, const absl::Status& status,
                      CompletedCalls* completed) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    if (generation != generation_ || stream_ == nullptr) return;
    LogInfo("RPC client disconnected: ", status.message());
    // First refuse new registrations on it (PendingTable::InsertIf), then
    // fail what was registered: those calls can never be answered now.
    live_generation_.store(0);
    stream_->Shutdown();
    stream_ = nullptr;
    FailLocked(
        [generation](PendingCall* p) { return p->generation == generation; },
        status, completed);
    state_changed_.SignalAll();
    if (options_.reconnect) reconnector_.Disconnected();
  }

  void ExpireAsyncLocked(CompletedCalls* completed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    expiry_.ExpireDue(zen::Now(), [&](PendingCall* p) {
      if (table_.Take(p->number) != p) return false;
      CompleteCall(p, absl::DeadlineExceededError("call timed out"), completed);
      return true;
    });
  }

  // Asynchronous calls not yet completed. Lock-free (AsyncExpiry::waiting
  // is atomic), for the hot path: most channels never make one.
  size_t AsyncWaiting() const {
    return ABSL_TS_UNCHECKED_READ(expiry_).waiting();
  }

  // While asynchronous calls wait, reads for them when no synchronous caller
  // does, and expires them when one does (expiring needs no token, so their
  // deadlines hold either way).
  void AsyncReaderLoop() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    while (!stopped_) {
      if (AsyncWaiting() == 0) {
        async_wake_.Wait(&mu_);
        continue;
      }
      if (stream_ != nullptr && token_.TryTake()) {
        WithUnlocked(&mu_, [this, stream = stream_, generation = generation_] {
          LeadReading(nullptr, stream, generation);
        });
        continue;
      }
      CompletedCalls expired;
      ExpireAsyncLocked(&expired);
      if (expired.empty()) {
        async_wake_.WaitUntil(&mu_, expiry_.Earliest());
      } else {
        WithUnlocked(&mu_, [&expired] { RunCallbacks(expired); });
      }
    }
  }

  const ipc::Secret* const secret_;  // Not owned.
  const ChannelOptions options_;
  const std::string id_prefix_;

  mutable Mutex mu_;
  CondVar state_changed_;  // Connected, disconnected or stopped.
  CondVar async_wake_;     // Work for the async reader.
  std::shared_ptr<ipc::SocketStream> stream_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  internal::AsyncExpiry expiry_ ABSL_GUARDED_BY(mu_);
  // generation_ while stream_ is set, else 0: read without mu_ on every
  // call, written under mu_ with them.
  std::atomic<uint64_t> live_generation_{0};
  std::atomic<uint64_t> next_id_{0};

  internal::PendingTable table_;
  internal::ReadingToken token_;
  internal::Reconnector reconnector_;
  internal::Keepalive keepalive_;
  ForkGuardRegistration fork_guard_{&mu_};
  ThreadGroup threads_;
};

absl::StatusOr<std::unique_ptr<Channel>> Channel::Create(
    const ipc::Secret* secret, ChannelOptions options) {
  if (secret == nullptr || secret->empty()) {
    return absl::InvalidArgumentError("channel: no secret");
  }
  auto impl = std::make_unique<Impl>(secret, std::move(options));
  absl::Status connected = impl->Connect(/*canceller=*/nullptr);
  if (!connected.ok()) return connected;
  impl->StartThreads();
  return std::unique_ptr<Channel>(new Channel(std::move(impl)));
}

Channel::Channel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Channel::~Channel() {
  if (impl_ != nullptr) Stop();  // Null after AbandonAfterFork.
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
