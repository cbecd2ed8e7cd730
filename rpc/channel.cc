// Channel::Impl's connection, sending and stopping, and Channel's forwarding
// to it. The reading side is in channel_reading.cc; rpc/channel_impl.h says
// how the pieces fit.
#include "rpc/channel.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/scratch_string.h"
#include "base/status_macros.h"
#include "rpc/call_id.h"
#include "rpc/channel_impl.h"
#include "rpc/json_writer.h"

namespace zen::rpc {

using internal::CompleteCall;
using internal::CompletedCalls;
using internal::PendingCall;
using internal::RunCallbacks;

Channel::Impl::Impl(const ipc::Secret* secret, ChannelOptions options)
    : secret_(secret),
      options_(std::move(options)),
      id_prefix_(internal::RandomIdPrefix()),
      reconnector_(options_.reconnect_policy,
                   [this](ipc::ConnectCanceller* canceller) {
                     return Connect(canceller);
                   }),
      keepalive_(
          options_.keepalive_interval,
          {[this] { return live_generation_.load(); },
           [this](absl::Duration timeout) {
             return Call("ping", "[]", "{}", CallOptions::WithTimeout(timeout))
                 .status();
           },
           [this](uint64_t generation) {
             CompletedCalls completed;
             LoseConnection(
                 generation,
                 absl::UnavailableError("keepalive: server not answering"),
                 &completed);
             RunCallbacks(completed);
           }}) {}

absl::Status Channel::Impl::Connect(ipc::ConnectCanceller* canceller) {
  ZEN_ASSIGN_OR_RETURN(std::unique_ptr<ipc::SocketStream> stream,
                       ipc::Connect(*secret_, options_.connector,
                                    absl::InfiniteFuture(), canceller));
  MutexLock lock(&mu_);
  if (stopped_) return absl::CancelledError("channel stopped");
  stream_ = std::shared_ptr<ipc::SocketStream>(std::move(stream));
  ++generation_;
  live_generation_.store(generation_);
  state_changed_.SignalAll();
  async_wake_.SignalAll();
  return absl::OkStatus();
}

void Channel::Impl::StartThreads() {
  threads_.Spawn([this] { AsyncReaderLoop(); });
  if (options_.reconnect) threads_.Spawn([this] { reconnector_.Run(); });
  if (options_.keepalive_interval > absl::ZeroDuration()) {
    threads_.Spawn([this] { keepalive_.Run(); });
  }
}

absl::StatusOr<RawResult> Channel::Impl::Call(absl::string_view method,
                                              absl::string_view args,
                                              absl::string_view kwargs,
                                              const CallOptions& options) {
  PendingCall pending;
  pending.started = zen::Now();
  pending.deadline = Deadline(options, pending.started);
  MethodStats* stats = metrics_.Find(method);
  absl::Status sent = Send(method, args, kwargs, options, &pending);
  absl::StatusOr<RawResult> result =
      sent.ok() ? Wait(&pending) : absl::StatusOr<RawResult>(std::move(sent));
  stats->RecordSince(result.status().code(), pending.started);
  return result;
}

void Channel::Impl::CallAsync(absl::string_view method, absl::string_view args,
                              absl::string_view kwargs,
                              const CallOptions& options, ResultCallback done) {
  if (!done) done = [](absl::StatusOr<RawResult>) {};  // Still async.
  auto* pending = new PendingCall;
  pending->started = zen::Now();
  pending->deadline = Deadline(options, pending->started);
  pending->callback = std::move(done);
  pending->stats = metrics_.Find(method);  // RunCallbacks records it.
  absl::Status sent = Send(method, args, kwargs, options, pending);
  if (!sent.ok()) {
    const std::unique_ptr<PendingCall> unsent(pending);
    unsent->stats->RecordSince(sent.code(), unsent->started);
    return unsent->callback(sent);
  }
  MutexLock lock(&mu_);
  async_wake_.SignalAll();  // The async reader may need to take the token.
}

void Channel::Impl::Stop() {
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

void Channel::Impl::AbandonAfterFork() {
  {
    MutexLock lock(&mu_);
    if (stream_ != nullptr) stream_->CloseAfterFork();
  }
  // The parent's calls are not ours; their PendingCall objects are leaked
  // with this object.
  threads_.AbandonAfterFork();
}

absl::Time Channel::Impl::Deadline(const CallOptions& options,
                                   absl::Time now) const {
  return options.deadline == absl::InfiniteFuture()
             ? now + options_.default_timeout
             : options.deadline;
}

absl::Status Channel::Impl::Send(absl::string_view method,
                                 absl::string_view args,
                                 absl::string_view kwargs,
                                 const CallOptions& options,
                                 PendingCall* pending) {
  // Once registered, `pending` may be completed (an async one freed) by
  // another thread at any moment: the write reads only copies.
  const uint64_t number = next_id_.fetch_add(1, std::memory_order_relaxed) + 1;
  const absl::Time deadline = pending->deadline;
  pending->number = number;
  std::shared_ptr<ipc::SocketStream> stream;
  uint64_t generation = 0;
  ZEN_RETURN_IF_ERROR(
      Register(pending, options.wait_for_ready, &stream, &generation));
  const internal::CallId id(id_prefix_, number);
  absl::Status written;
  if (NeedsNoEscaping(method)) {  // Usual: no copy.
    written = stream->Write(
        RequestParts::WithPlainMethod(id.view(), method, args, kwargs).parts(),
        deadline);
  } else {
    ScratchString method_json;  // No allocation per call once warm.
    AppendJsonString(method_json.get(), method);
    written = stream->Write(
        RequestParts(id.view(), *method_json, args, kwargs).parts(), deadline);
  }
  if (!written.ok()) FailSend(number, generation, written);
  return absl::OkStatus();
}

absl::Status Channel::Impl::Register(PendingCall* p, bool wait_for_ready,
                                     std::shared_ptr<ipc::SocketStream>* stream,
                                     uint64_t* generation) {
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
    // Sent now, give or take a wait for the connection: close enough for
    // a keepalive's interval, and no second clock read.
    keepalive_.NoteCall(p->started);
    // Asynchronous calls enter table and index in one hold of mu_, so
    // that expiry finds every indexed call in the table unless a completer
    // already took it (AsyncExpiry).
    if (p->is_async()) {
      table_.InsertIf(p, [] { return true; });
      expiry_.Add(p);
      return absl::OkStatus();
    }
  }
  if (table_.InsertIf(p,
                      [&] { return live_generation_.load() == *generation; })) {
    return absl::OkStatus();
  }
  // The connection was lost (or the channel stopped) since we looked.
  MutexLock lock(&mu_);
  if (stopped_) return absl::CancelledError("channel stopped");
  return absl::UnavailableError("connection lost");
}

void Channel::Impl::FailSend(uint64_t number, uint64_t generation,
                             const absl::Status& written) {
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

PendingCall* Channel::Impl::TakeCall(uint64_t number) {
  PendingCall* p = table_.Take(number);
  if (p != nullptr && p->is_async()) {
    MutexLock lock(&mu_);
    expiry_.Remove(p);
  }
  return p;
}

template <typename Pred>
void Channel::Impl::FailLocked(Pred pred, const absl::Status& status,
                               CompletedCalls* completed) {
  CompletedCalls taken;
  table_.TakeIf(pred, &taken);
  for (PendingCall* p : taken) {
    if (p->is_async()) expiry_.Remove(p);
    CompleteCall(p, status, completed);
  }
}

void Channel::Impl::LoseConnection(uint64_t generation,
                                   const absl::Status& status,
                                   CompletedCalls* completed) {
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

absl::StatusOr<std::unique_ptr<Channel>> Channel::Create(
    const ipc::Secret* secret, ChannelOptions options) {
  if (secret == nullptr || secret->empty()) {
    return absl::InvalidArgumentError("channel: no secret");
  }
  auto impl = std::make_unique<Impl>(secret, std::move(options));
  ZEN_RETURN_IF_ERROR(impl->Connect(/*canceller=*/nullptr));
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

MetricsSnapshot Channel::method_metrics() const {
  return impl_->method_metrics();
}

void Channel::AbandonAfterFork() { impl_.release()->AbandonAfterFork(); }

}  // namespace zen::rpc
