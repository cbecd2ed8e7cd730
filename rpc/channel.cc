#include "rpc/channel.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/clock.h"
#include "base/fork_guard.h"
#include "base/log.h"
#include "base/mutex.h"
#include "base/thread_group.h"
#include "ipc/crypto.h"
#include "rpc/envelope.h"
#include "rpc/json_writer.h"

namespace zen::rpc {
namespace {

// A call waiting for its response.
struct Pending {
  bool done = false;
  absl::StatusOr<RawResult> result{absl::UnknownError("pending")};
  absl::Time deadline;
  uint64_t generation = 0;  // The connection it was sent on.
  CondVar cv;               // Sync calls: signalled when done.
  ResultCallback callback;  // Async calls: run once done.
};

std::string RandomIdPrefix() {
  uint8_t bytes[8];
  if (!ipc::SecureRandomBytes(bytes).ok()) {
    // Still unique per process: fall back on the pid and the clock.
    const uint64_t mix = static_cast<uint64_t>(::getpid()) ^
                         static_cast<uint64_t>(absl::ToUnixNanos(zen::Now()));
    std::memcpy(bytes, &mix, sizeof(bytes));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  out.push_back('-');
  return out;
}

}  // namespace

// Reading is a token passed among threads (leader/follower): a synchronous
// caller whose response has not arrived takes the token if it is free and
// reads for everyone, so a caller alone in flight reads its own response with
// no thread hand-off. The async thread takes it only while asynchronous calls
// wait and no synchronous caller reads.
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
    stream_ = std::shared_ptr<ipc::SocketStream>(std::move(*stream));
    ++generation_;
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
    const absl::Time deadline = Deadline(options);
    Pending pending;
    pending.deadline = deadline;
    std::string id;
    absl::Status sent = Send(method, args, kwargs, options, &pending, &id);
    if (!sent.ok()) return sent;
    return Wait(&pending, id);
  }

  void CallAsync(absl::string_view method, absl::string_view args,
                 absl::string_view kwargs, const CallOptions& options,
                 ResultCallback done) ABSL_LOCKS_EXCLUDED(mu_) {
    if (!done) done = [](absl::StatusOr<RawResult>) {};  // Still async.
    auto* pending = new Pending;
    pending->deadline = Deadline(options);
    pending->callback = std::move(done);
    std::string id;
    absl::Status sent = Send(method, args, kwargs, options, pending, &id);
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
        if (stream_ != nullptr) stream_->Shutdown();
        stream_ = nullptr;
        FailAllLocked(absl::CancelledError("channel stopped"), &failed);
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

  // Registers `pending` under a fresh id and writes the request.
  absl::Status Send(absl::string_view method, absl::string_view args,
                    absl::string_view kwargs, const CallOptions& options,
                    Pending* pending, std::string* id)
      ABSL_LOCKS_EXCLUDED(mu_) {
    std::shared_ptr<ipc::SocketStream> stream;
    uint64_t generation;
    const absl::Time deadline = pending->deadline;
    {
      MutexLock lock(&mu_);
      for (;;) {
        if (stopped_) return absl::CancelledError("channel stopped");
        if (stream_ != nullptr) break;
        if (!options.wait_for_ready) {
          return absl::UnavailableError("not connected to the server");
        }
        if (!state_changed_.WaitUntil(&mu_, pending->deadline) &&
            zen::Now() >= pending->deadline) {
          return absl::DeadlineExceededError(
              "deadline exceeded while waiting for the connection");
        }
      }
      stream = stream_;
      generation = generation_;
      pending->generation = generation;
      *id = absl::StrCat(id_prefix_, ++next_id_);
      pending_.emplace(*id, pending);
      if (pending->callback) ++async_waiting_;
      last_call_ = zen::Now();
    }
    const std::string method_json = JsonString(method);
    RequestParts parts(*id, method_json, args, kwargs);
    // Once registered and unlocked, `pending` may be completed (and, for an
    // async call, freed) by another thread at any moment: only the locals
    // above are safe to use until it is found in pending_ again.
    absl::Status written = stream->Write(parts.parts(), deadline);
    if (written.ok()) return absl::OkStatus();
    // From here on the outcome travels the normal completion path (Wait, or
    // the callback), whoever completes the call.
    std::vector<Pending*> completed;
    {
      MutexLock lock(&mu_);
      auto it = pending_.find(*id);
      if (it != pending_.end()) {
        pending_.erase(it);
        absl::Status status = written;
        if (!absl::IsResourceExhausted(written) &&
            !absl::IsDeadlineExceeded(written)) {
          status = absl::UnavailableError(
              absl::StrCat("connection lost: ", written.message()));
        }
        pending->result = status;
        CompleteLocked(pending, &completed);
      }
      if (!absl::IsResourceExhausted(written) &&
          !absl::IsDeadlineExceeded(written)) {
        // A frame cut short (or a dead socket) ends this connection; one
        // refused whole (too large, or no room before the deadline) does not.
        LoseConnectionLocked(generation,
                             absl::UnavailableError(absl::StrCat(
                                 "connection lost: ", written.message())),
                             &completed);
      }
    }
    RunCallbacks(completed);
    return absl::OkStatus();
  }

  // Waits for a synchronous call, reading for everyone when the token is free.
  absl::StatusOr<RawResult> Wait(Pending* pending, const std::string& id)
      ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    for (;;) {
      if (pending->done) return std::move(pending->result);
      if (zen::Now() >= pending->deadline) {
        pending_.erase(id);
        return absl::DeadlineExceededError("call timed out");
      }
      if (!reading_ && stream_ != nullptr &&
          generation_ == pending->generation) {
        ReadAsLeaderLocked(pending);
        continue;
      }
      pending->cv.WaitUntil(&mu_, pending->deadline);
    }
  }

  // Holds the reading token until `mine` is done or its deadline passes
  // (mine == nullptr: until no asynchronous call waits).
  void ReadAsLeaderLocked(Pending* mine) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    reading_ = true;
    std::shared_ptr<ipc::SocketStream> stream = stream_;
    const uint64_t generation = generation_;
    std::vector<Pending*> completed;
    for (;;) {
      if (mine != nullptr ? mine->done : async_waiting_ == 0) break;
      if (stopped_ || generation_ != generation) break;
      absl::Time deadline =
          mine != nullptr ? mine->deadline : absl::InfiniteFuture();
      deadline = std::min(deadline, EarliestAsyncDeadlineLocked());
      mu_.Unlock();
      RunCallbacks(completed);
      completed.clear();
      absl::StatusOr<ipc::Frame> frame = stream->Read(deadline);
      mu_.Lock();
      if (!frame.ok()) {
        if (absl::IsDeadlineExceeded(frame.status())) {
          ExpireAsyncLocked(&completed);
          if (mine != nullptr && zen::Now() >= mine->deadline) break;
          continue;
        }
        // An oversized frame from the server makes the stream unusable:
        // every call on it is lost, which is UNAVAILABLE for them.
        absl::Status lost = absl::UnavailableError(
            absl::StrCat("connection lost: ", frame.status().message()));
        LoseConnectionLocked(generation, lost, &completed);
        break;
      }
      DeliverLocked(*std::move(frame), generation, &completed);
    }
    reading_ = false;
    // Pass the token on. Every other synchronous waiter is woken (not just
    // one: a single chosen one could time out and leave without reading);
    // the first to see the token free takes it. Then the async reader, if
    // asynchronous calls wait.
    for (auto& [id, p] : pending_) {
      if (p != mine && !p->done && !p->callback) p->cv.Signal();
    }
    if (async_waiting_ > 0) async_wake_.SignalAll();
    if (!completed.empty()) {
      mu_.Unlock();
      RunCallbacks(completed);
      mu_.Lock();
    }
  }

  void DeliverLocked(ipc::Frame frame, uint64_t generation,
                     std::vector<Pending*>* completed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ResponseView response;
    absl::Status parsed = EnvelopeParser::ThreadLocal(options_.max_json_depth)
                              .ParseResponse(frame.body, &response);
    if (!parsed.ok()) {
      if (absl::IsInvalidArgument(parsed)) return;  // Wrong shape: ignored.
      LogError("RPC client error: ", parsed.message());
      LoseConnectionLocked(generation, parsed, completed);
      return;
    }
    auto it = pending_.find(response.id);
    if (it == pending_.end()) return;  // Late or unknown: ignored.
    Pending* p = it->second;
    pending_.erase(it);
    if (response.error.ok()) {
      p->result = RawResult(std::move(frame), response.result);
    } else {
      p->result = response.error;
    }
    CompleteLocked(p, completed);
  }

  void CompleteLocked(Pending* p, std::vector<Pending*>* completed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    p->done = true;
    if (p->callback) {
      --async_waiting_;
      completed->push_back(p);
    } else {
      p->cv.Signal();
    }
  }

  void FailAllLocked(const absl::Status& status,
                     std::vector<Pending*>* completed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (auto& [id, p] : pending_) {
      p->result = status;
      CompleteLocked(p, completed);
    }
    pending_.clear();
  }

  void LoseConnectionLocked(uint64_t generation, const absl::Status& status,
                            std::vector<Pending*>* completed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (generation != generation_ || stream_ == nullptr) return;
    LogInfo("RPC client disconnected: ", status.message());
    stream_->Shutdown();
    stream_ = nullptr;
    // Calls of that connection can never be answered now.
    for (auto it = pending_.begin(); it != pending_.end();) {
      Pending* p = it->second;
      if (p->generation == generation) {
        p->result = status;
        CompleteLocked(p, completed);
        pending_.erase(it++);
      } else {
        ++it;
      }
    }
    state_changed_.SignalAll();
  }

  absl::Time EarliestAsyncDeadlineLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Time earliest = absl::InfiniteFuture();
    if (async_waiting_ == 0) return earliest;
    for (auto& [id, p] : pending_) {
      if (p->callback) earliest = std::min(earliest, p->deadline);
    }
    return earliest;
  }

  void ExpireAsyncLocked(std::vector<Pending*>* completed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (async_waiting_ == 0) return;
    const absl::Time now = zen::Now();
    for (auto it = pending_.begin(); it != pending_.end();) {
      Pending* p = it->second;
      if (p->callback && now >= p->deadline) {
        p->result = absl::DeadlineExceededError("call timed out");
        CompleteLocked(p, completed);
        pending_.erase(it++);
      } else {
        ++it;
      }
    }
  }

  // Runs and frees completed asynchronous calls. Sync ones are not listed.
  static void RunCallbacks(const std::vector<Pending*>& completed) {
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
      if (async_waiting_ > 0 && !reading_ && stream_ != nullptr) {
        ReadAsLeaderLocked(nullptr);
        continue;
      }
      if (async_waiting_ > 0) {
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
      stream_ = std::shared_ptr<ipc::SocketStream>(std::move(*stream));
      ++generation_;
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
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  size_t async_waiting_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_call_ ABSL_GUARDED_BY(mu_) = zen::Now();
  absl::flat_hash_map<std::string, Pending*> pending_ ABSL_GUARDED_BY(mu_);
  ipc::ReconnectPolicy policy_ ABSL_GUARDED_BY(mu_);
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
