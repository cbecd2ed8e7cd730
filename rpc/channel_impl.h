// Channel::Impl's declaration, shared by its two source files. Internal to
// rpc::Channel.
#ifndef ZEN_RPC_CHANNEL_IMPL_H_
#define ZEN_RPC_CHANNEL_IMPL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/fork_guard.h"
#include "base/mutex.h"
#include "base/thread_group.h"
#include "ipc/connector.h"
#include "ipc/secret.h"
#include "ipc/socket_stream.h"
#include "rpc/async_expiry.h"
#include "rpc/channel.h"
#include "rpc/envelope.h"
#include "rpc/keepalive.h"
#include "rpc/method_metrics.h"
#include "rpc/pending_call.h"
#include "rpc/pending_table.h"
#include "rpc/reading_token.h"
#include "rpc/reconnector.h"

namespace zen::rpc {

// The glue of the channel's pieces: a call is registered in the PendingTable
// and written by its caller; responses are read by the ReadingToken's holder
// (a synchronous caller, or the async thread while only asynchronous calls
// wait) and delivered through the table; AsyncExpiry fails asynchronous
// calls at their deadline; Reconnector and Keepalive run on their threads.
// channel.cc holds the connection, the sending and stopping;
// channel_reading.cc the waiting, reading and delivering.
//
// Locks: `mu_` guards the connection and the asynchronous calls' deadline
// index, and is taken once per synchronous call (to register it). A caller
// sleeps on its own PendingCall, so delivering a response wakes exactly its
// caller. Lock order: mu_, then a table shard, then a PendingCall's.
class Channel::Impl {
 public:
  Impl(const ipc::Secret* secret, ChannelOptions options);
  ~Impl() { Stop(); }

  // Connects (Stop() cancels it through `canceller`) to replace the lost
  // connection, or to make the first.
  absl::Status Connect(ipc::ConnectCanceller* canceller)
      ABSL_LOCKS_EXCLUDED(mu_);
  void StartThreads();

  absl::StatusOr<RawResult> Call(absl::string_view method,
                                 absl::string_view args,
                                 absl::string_view kwargs,
                                 const CallOptions& options)
      ABSL_LOCKS_EXCLUDED(mu_);
  void CallAsync(absl::string_view method, absl::string_view args,
                 absl::string_view kwargs, const CallOptions& options,
                 ResultCallback done) ABSL_LOCKS_EXCLUDED(mu_);
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  bool connected() const ABSL_LOCKS_EXCLUDED(mu_) {
    return live_generation_.load() != 0;
  }
  // mu_ is free in a forked child: the fork guard holds it across the fork.
  void AbandonAfterFork() ABSL_LOCKS_EXCLUDED(mu_);
  MetricsSnapshot method_metrics() const { return metrics_.Snapshot(); }

 private:
  // --- Connection and sending (channel.cc).

  // The call's absolute deadline, for a call made at `now`.
  absl::Time Deadline(const CallOptions& options, absl::Time now) const;
  // Registers `pending` under a fresh id and writes the request. Once it
  // returns OK, the outcome (a failed write included) arrives through the
  // normal completion path: Wait, or the callback.
  absl::Status Send(absl::string_view method, absl::string_view args,
                    absl::string_view kwargs, const CallOptions& options,
                    internal::PendingCall* pending) ABSL_LOCKS_EXCLUDED(mu_);
  // Waits for the connection if asked to, then puts `p` in the table (and,
  // when asynchronous, in the deadline index). Sets *stream and *generation
  // to the connection it was registered on.
  absl::Status Register(internal::PendingCall* p, bool wait_for_ready,
                        std::shared_ptr<ipc::SocketStream>* stream,
                        uint64_t* generation) ABSL_LOCKS_EXCLUDED(mu_);
  // The write of call `number` failed: completes the call (unless another
  // thread did). A frame cut short (or a dead socket) ends the connection;
  // one refused whole (too large, or no room before the deadline) does not,
  // and the call keeps the write's code.
  void FailSend(uint64_t number, uint64_t generation,
                const absl::Status& written) ABSL_LOCKS_EXCLUDED(mu_);
  // Takes call `number` from the table (and, if asynchronous, from the
  // deadline index), for the caller to Complete. nullptr if it is not there.
  internal::PendingCall* TakeCall(uint64_t number) ABSL_LOCKS_EXCLUDED(mu_);
  // Takes every call matching `pred` out of the table and fails it.
  template <typename Pred>
  void FailLocked(Pred pred, const absl::Status& status,
                  internal::CompletedCalls* completed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends connection `generation` (if it is still the live one) and fails
  // every call sent on it.
  void LoseConnection(uint64_t generation, const absl::Status& status,
                      internal::CompletedCalls* completed)
      ABSL_LOCKS_EXCLUDED(mu_);

  // --- Waiting, reading and delivering (channel_reading.cc).

  // Waits for a synchronous call, reading for everyone when the token is free.
  absl::StatusOr<RawResult> Wait(internal::PendingCall* p)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Offers the token, if free, to one sleeping follower.
  void PassOnToken();
  void ReleaseToken() ABSL_LOCKS_EXCLUDED(mu_);
  // Holds the reading token (taken by the caller) until `mine` is done or
  // its deadline passes (mine == nullptr: until no asynchronous call waits),
  // then releases it.
  void LeadReading(internal::PendingCall* mine,
                   std::shared_ptr<ipc::SocketStream> stream,
                   uint64_t generation) ABSL_LOCKS_EXCLUDED(mu_);
  void Deliver(ipc::Frame frame, uint64_t generation, ResponseView* response,
               internal::CompletedCalls* completed) ABSL_LOCKS_EXCLUDED(mu_);
  void ExpireAsyncLocked(internal::CompletedCalls* completed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Asynchronous calls not yet completed. Lock-free (AsyncExpiry::waiting
  // is atomic), for the hot path: most channels never make one.
  size_t AsyncWaiting() const {
    return ABSL_TS_UNCHECKED_READ(expiry_).waiting();
  }
  // While asynchronous calls wait, reads for them when no synchronous caller
  // does, and expires them when one does (expiring needs no token, so their
  // deadlines hold either way).
  void AsyncReaderLoop() ABSL_LOCKS_EXCLUDED(mu_);

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

  MethodStatsTable metrics_;  // Per method called; lock-free lookups.
  internal::PendingTable table_;
  internal::ReadingToken token_;
  internal::Reconnector reconnector_;
  internal::Keepalive keepalive_;
  ForkGuardRegistration fork_guard_{&mu_};
  ThreadGroup threads_;
};

}  // namespace zen::rpc

#endif  // ZEN_RPC_CHANNEL_IMPL_H_
