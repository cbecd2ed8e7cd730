#include "rpc/server.h"

#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/thread_state.h"
#include "rpc/envelope.h"

namespace zen::rpc {

// One connection's state. Exactly one thread at a time is its reader; it
// runs each handler inline (no hand-off on the fast path). If a handler runs
// past the inline budget, the supervisor makes a fresh thread the reader and
// the old one finishes its handler and leaves.
//
// A deferred call (ServerCall::Defer) refers to its connection weakly and may
// outlive the server: what answering it touches (SendDeferred,
// ReleaseDeferred) uses only the connection's own members. Only reader and
// handler threads own a connection, so one whose peer left is released
// when they do, parked calls or not.
class Server::Connection : public std::enable_shared_from_this<Connection>,
                           public ResponseSink {
 public:
  Connection(Server* server, std::shared_ptr<ipc::MessageStream> stream)
      : server_(server),
        stream_(std::move(stream)),
        write_timeout_(server->options_.listener.stream.write_timeout) {}

  void SendDeferred(absl::string_view id_json,
                    absl::Span<const absl::string_view> result_parts,
                    const absl::Status& error) override {
    SendResponse(id_json, result_parts, error);
  }
  void ReleaseDeferred() override ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    --in_flight_;
    last_activity_ = zen::Now();
  }

  // Reads and dispatches until the connection ends or this thread stops
  // being the reader.
  void ReadLoop() ABSL_LOCKS_EXCLUDED(mu_);

  // Called by the supervisor: relieves a reader stuck in a slow handler by
  // starting a new reader thread. Returns true if it did. Sets *running when
  // a handler runs inline (relieved or not).
  bool RelieveIfSlow(absl::Time now, bool* running) ABSL_LOCKS_EXCLUDED(mu_);

  void Shutdown() { stream_->Shutdown(); }
  ipc::MessageStream* stream() { return stream_.get(); }

 private:
  // Dispatches one request; returns false if the reader must stop reading.
  void Dispatch(const ipc::Frame& frame, RequestView& request);
  void SendResponse(absl::string_view id_json,
                    absl::Span<const absl::string_view> result,
                    const absl::Status& error);
  // Starts a new reader thread and makes it the reader; the current one
  // leaves after its handler. false (nothing changed) at the cap or when no
  // thread can be created.
  bool RelieveLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Not owned; outlives every use but a deferred call's answer (above).
  Server* const server_;
  const std::shared_ptr<ipc::MessageStream> stream_;
  const absl::Duration write_timeout_;

  Mutex mu_;
  uint64_t reader_epoch_ ABSL_GUARDED_BY(mu_) = 0;  // Bumped at each relief.
  bool inline_running_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time inline_started_ ABSL_GUARDED_BY(mu_);
  pid_t inline_tid_ ABSL_GUARDED_BY(mu_) = 0;      // The thread running it.
  uint64_t inline_call_ ABSL_GUARDED_BY(mu_) = 0;  // Bumped per inline call.
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_activity_ ABSL_GUARDED_BY(mu_) = zen::Now();
};

void Server::Connection::SendResponse(
    absl::string_view id_json, absl::Span<const absl::string_view> result,
    const absl::Status& error) {
  const absl::Time deadline = zen::Now() + write_timeout_;
  absl::Status written;
  if (error.ok()) {
    // `[id,result,null]`, gathered: the result's parts are not copied.
    absl::InlinedVector<absl::string_view, 8> parts = {"[", id_json, ","};
    parts.insert(parts.end(), result.begin(), result.end());
    parts.push_back(",null]");
    written = stream_->Write(parts, deadline);
    if (absl::IsResourceExhausted(written)) {
      // The result is over the frame limit: say so instead (reference 47).
      SendResponse(id_json, {}, written);
      return;
    }
  } else {
    const std::string error_json = ErrorJson(error);
    const absl::string_view parts[] = {"[", id_json, ",null,", error_json, "]"};
    written = stream_->Write(parts, deadline);
  }
  // A response that could not be written is lost, and a client that read
  // nothing for a whole write timeout is given up (even if the stream would
  // take the next response): its connection is closed.
  if (!written.ok() && !absl::IsResourceExhausted(written)) stream_->Shutdown();
}

void Server::Connection::Dispatch(const ipc::Frame& frame,
                                  RequestView& request) {
  (void)frame;  // Keeps the request's bytes alive for the handler.
  const Handler* handler = server_->FindHandler(request.method);
  auto sender = [this, id = request.id_json](
                    absl::Span<const absl::string_view> result,
                    const absl::Status& error) {
    SendResponse(id, result, error);
  };
  // A deferred call stays in flight past this Dispatch (whose caller
  // counts it down) until its DeferredResponse is answered or destroyed.
  auto deferrer = [this, id = request.id_json] {
    {
      MutexLock lock(&mu_);
      ++in_flight_;
    }
    return std::make_unique<DeferredResponse>(shared_from_this(),
                                              std::string(id));
  };
  ServerCall call(request.id_json, request.method, request.args, request.kwargs,
                  &server_->cancelled_, std::move(sender), std::move(deferrer));
  if (handler == nullptr) {
    call.RespondError(absl::UnimplementedError(
        absl::StrCat("undefined handler '", request.method, "'")));
    return;
  }
  absl::Status status = (*handler)(call);
  if (!call.responded()) {
    if (status.ok()) {
      call.Respond("null");
    } else {
      LogWarning("RPC server error handling '", request.method,
                 "': ", status.ToString());
      call.RespondError(status);
    }
  } else if (!status.ok()) {
    LogWarning("RPC server error handling '", request.method,
               "' after responding: ", status.ToString());
  }
}

void Server::Connection::ReadLoop() {
  uint64_t my_epoch;
  const pid_t my_tid = CurrentThreadId();
  {
    MutexLock lock(&mu_);
    my_epoch = reader_epoch_;
  }
  const ServerOptions& options = server_->options_;
  for (;;) {
    absl::Time deadline;
    {
      MutexLock lock(&mu_);
      // A call in flight keeps the connection open; otherwise the idle clock
      // runs from the last activity.
      deadline = in_flight_ > 0 ? zen::Now() + options.idle_timeout
                                : last_activity_ + options.idle_timeout;
    }
    absl::StatusOr<ipc::Frame> frame = stream_->Read(deadline);
    if (!frame.ok()) {
      if (absl::IsDeadlineExceeded(frame.status())) {
        MutexLock lock(&mu_);
        if (in_flight_ > 0 ||
            zen::Now() - last_activity_ < options.idle_timeout) {
          continue;
        }
        LogInfo("RPC server: closing idle connection");
      } else if (!absl::IsUnavailable(frame.status())) {
        LogWarning("RPC server error: ", frame.status().message());
      }
      // Calls still in flight (handed to other threads) answer first: a
      // client that half-closed after sending still gets them. The stream
      // closes when the last of them releases the connection.
      MutexLock lock(&mu_);
      if (in_flight_ == 0) stream_->Shutdown();
      return;
    }
    RequestView request;
    absl::Status parsed = EnvelopeParser::ThreadLocal(options.max_json_depth)
                              .ParseRequest(frame->body, &request);
    if (!parsed.ok()) {
      if (absl::IsInvalidArgument(parsed)) {
        server_->malformed_ignored_.fetch_add(1, std::memory_order_relaxed);
        continue;  // Wrong shape: ignored.
      }
      server_->dropped_non_json_.fetch_add(1, std::memory_order_relaxed);
      LogWarning("RPC server error: ", parsed.message());
      stream_->Shutdown();
      return;
    }
    bool over_limit;
    {
      MutexLock lock(&mu_);
      last_activity_ = zen::Now();
      over_limit = in_flight_ >= options.max_in_flight_per_connection;
      if (!over_limit) {
        ++in_flight_;
        inline_running_ = true;
        inline_started_ = last_activity_;
        inline_tid_ = my_tid;
        ++inline_call_;
      }
    }
    server_->activity_.fetch_add(1, std::memory_order_relaxed);
    (over_limit ? server_->rejected_over_limit_ : server_->calls_)
        .fetch_add(1, std::memory_order_relaxed);
    if (over_limit) {
      SendResponse(request.id_json, {},
                   absl::ResourceExhaustedError(absl::StrCat(
                       "too many calls in flight on this connection (max ",
                       options.max_in_flight_per_connection, ")")));
      continue;
    }
    Dispatch(*frame, request);
    MutexLock lock(&mu_);
    --in_flight_;
    last_activity_ = zen::Now();
    if (reader_epoch_ != my_epoch) {  // Relieved: another thread reads.
      server_->relieved_running_.fetch_sub(1);
      return;
    }
    inline_running_ = false;
  }
}

bool Server::Connection::RelieveIfSlow(absl::Time now, bool* running) {
  const absl::Duration budget = server_->options_.inline_handler_budget;
  pid_t tid;
  uint64_t call;
  {
    MutexLock lock(&mu_);
    if (!inline_running_) return false;
    *running = true;
    const absl::Duration elapsed = now - inline_started_;
    if (elapsed < budget) return false;
    // Over budget by the wall clock. A handler that is runnable is working
    // (or waiting for a CPU, which on a loaded machine is most of the wall
    // time): moving the reading elsewhere would only add a thread to the run
    // queue. So a runnable handler is relieved only when it has been at it
    // for much longer; one that sleeps or blocks is relieved at once.
    if (elapsed >= 10 * budget) return RelieveLocked();
    tid = inline_tid_;
    call = inline_call_;
  }
  // Asked without mu_ held: the reader takes mu_ when its handler returns,
  // and would look blocked while it waited for us.
  if (ThreadState(tid) == 'R') return false;  // Working or awaiting a CPU.
  MutexLock lock(&mu_);
  if (!inline_running_ || inline_call_ != call) return false;  // Finished.
  return RelieveLocked();
}

bool Server::Connection::RelieveLocked() {
  // Only the supervisor adds to relieved_running_, so checking and adding
  // need no lock of their own.
  if (server_->relieved_running_.load() >=
      server_->options_.max_relieved_handlers) {
    server_->handoffs_refused_.fetch_add(1, std::memory_order_relaxed);
    return false;  // Asked again at the next tick.
  }
  // The thread is started first, under mu_: the new reader takes mu_ to read
  // its epoch, and the handler's thread checks the epoch under mu_ when its
  // handler returns, so neither sees a relief that did not happen. If no
  // thread can be created (EAGAIN under a task limit), the handler keeps its
  // reading, as at the cap: its connection's later calls wait for it.
  absl::Status started = server_->threads_.TrySpawn(
      [self = shared_from_this()] { self->ReadLoop(); });
  if (!started.ok()) {
    server_->handoffs_refused_.fetch_add(1, std::memory_order_relaxed);
    const uint64_t failed = server_->thread_start_failures_.fetch_add(1) + 1;
    if ((failed & (failed - 1)) == 0) {  // 1, 2, 4, ...: no log flood.
      LogWarning("RPC server: slow handler left inline (", failed,
                 " times so far): ", started.message());
    }
    return false;
  }
  server_->relieved_running_.fetch_add(1);
  ++reader_epoch_;
  inline_running_ = false;
  return true;
}

absl::StatusOr<std::unique_ptr<Server>> Server::Create(
    const ipc::Secret* secret, ServerOptions options) {
  if (options.listener.stream.frame_budget == nullptr) {
    options.listener.stream.frame_budget =
        std::make_shared<ipc::FrameBudget>(options.max_large_frame_bytes);
  }
  std::unique_ptr<Server> server(new Server(options));
  Server* raw = server.get();
  absl::StatusOr<std::unique_ptr<ipc::Listener>> listener =
      ipc::Listener::Create(secret, options.listener,
                            [raw](std::shared_ptr<ipc::SocketStream> stream) {
                              raw->ServeStream(std::move(stream));
                            });
  if (!listener.ok()) return listener.status();
  server->listener_ = std::move(*listener);
  return server;
}

Server::Server(ServerOptions options) : options_(std::move(options)) {}

Server::~Server() { Stop(); }

void Server::RegisterHandler(std::string method, Handler handler) {
  if (started_.load()) {
    LogError("RPC server: RegisterHandler('", method, "') after Start ignored");
    return;
  }
  handlers_[std::move(method)] = std::move(handler);
}

const Handler* Server::FindHandler(absl::string_view method) const {
  auto it = handlers_.find(method);
  return it == handlers_.end() ? nullptr : &it->second;
}

absl::Status Server::Start() {
  {
    MutexLock lock(&mu_);
    if (stopping_) return absl::FailedPreconditionError("server stopped");
  }
  if (started_.exchange(true)) {
    return absl::FailedPreconditionError("server already started");
  }
  absl::Status supervising = threads_.TrySpawn([this] { SupervisorLoop(); });
  if (!supervising.ok()) {
    started_.store(false);  // Nothing started: Start may be tried again.
    return supervising;
  }
  return listener_->Start();
}

void Server::ServeStream(std::shared_ptr<ipc::MessageStream> stream) {
  auto connection = std::make_shared<Connection>(this, std::move(stream));
  {
    MutexLock lock(&mu_);
    if (stopping_) {
      connection->Shutdown();
      return;
    }
    connections_.push_back(connection);
    supervisor_wake_.SignalAll();
  }
  LogInfo("RPC server: client connected");
  connection->ReadLoop();
}

void Server::SupervisorLoop() {
  uint64_t last_activity_seen = 0;
  MutexLock lock(&mu_);
  while (!stopping_) {
    // Prune closed connections; judge the live ones with mu_ released, so
    // that connections arriving meanwhile are not held up.
    std::vector<std::shared_ptr<Connection>> live;
    live.reserve(connections_.size());
    for (auto it = connections_.begin(); it != connections_.end();) {
      std::shared_ptr<Connection> c = it->lock();
      if (c == nullptr) {
        *it = std::move(connections_.back());
        connections_.pop_back();
        continue;
      }
      live.push_back(std::move(c));
      ++it;
    }
    const absl::Time now = zen::Now();
    bool any_inline = false;
    mu_.Unlock();
    size_t relieved = 0;
    for (auto& c : live) {
      if (c->RelieveIfSlow(now, &any_inline)) ++relieved;
    }
    live.clear();  // Last owners of closed connections release them here.
    mu_.Lock();
    stats_.handoffs += relieved;
    // Tick at the budget while calls flow; after a quiet tick, slow down
    // (an idle parent whose workers only ping should not wake 500 times a
    // second). A slow handler that starts after a quiet spell is relieved
    // within the idle tick instead.
    const uint64_t activity = activity_.load(std::memory_order_relaxed);
    // Quiet: no call arrived and none runs inline (one that does may pass
    // its budget before the next tick).
    const bool quiet = activity == last_activity_seen && !any_inline;
    last_activity_seen = activity;
    if (stopping_) break;
    if (connections_.empty()) {
      supervisor_wake_.Wait(&mu_);
    } else {
      supervisor_wake_.WaitUntil(
          &mu_,
          now + (quiet ? kIdleSupervisorTick : options_.inline_handler_budget));
    }
  }
}

void Server::Close() { listener_->Close(); }

void Server::Stop() {
  std::vector<std::shared_ptr<Connection>> live;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    cancelled_.store(true);
    for (const auto& weak : connections_) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
    supervisor_wake_.SignalAll();
  }
  for (auto& c : live) c->Shutdown();
  live.clear();
  if (listener_ != nullptr) listener_->Stop();
  threads_.JoinAll();
}

void Server::AbandonAfterFork() {
  if (listener_ != nullptr) listener_.release()->AbandonAfterFork();
  threads_.AbandonAfterFork();
}

ServerStats Server::stats() const {
  MutexLock lock(&mu_);
  ServerStats s = stats_;
  s.calls = calls_.load(std::memory_order_relaxed);
  s.malformed_ignored = malformed_ignored_.load(std::memory_order_relaxed);
  s.dropped_non_json = dropped_non_json_.load(std::memory_order_relaxed);
  s.rejected_over_limit = rejected_over_limit_.load(std::memory_order_relaxed);
  s.handoffs_refused = handoffs_refused_.load(std::memory_order_relaxed);
  s.thread_start_failures =
      thread_start_failures_.load(std::memory_order_relaxed) +
      listener_->refused_no_thread();
  s.refused_no_thread = listener_->refused_no_thread();
  s.connections = 0;
  for (const auto& weak : connections_) s.connections += !weak.expired();
  s.parked_threads = threads_.parked() + listener_->parked_threads();
  const ipc::FrameBudget& budget = *options_.listener.stream.frame_budget;
  s.large_frames_refused = budget.refused();
  s.large_frame_bytes = budget.held();
  return s;
}

}  // namespace zen::rpc
