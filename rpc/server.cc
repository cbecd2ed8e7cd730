#include "rpc/server.h"

#include <algorithm>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "base/thread_state.h"
#include "base/timer_slack.h"
#include "rpc/envelope.h"
#include "rpc/relief.h"
#include "rpc/server_call_end.h"

namespace zen::rpc {
namespace {

// The most method-name bytes a reader thread keeps between calls.
constexpr size_t kKeptMethodNameBytes = 64;

}  // namespace

// One connection's state. Exactly one thread at a time is its reader; it
// runs each handler inline (no thread switch on the fast path). If a handler
// runs long, the supervisor relieves the reader (rpc/relief.h): a new thread
// reads, and the old one finishes its handler and leaves.
//
// A deferred call (ServerCall::Defer) refers to its connection weakly and may
// outlive the server: what answering it touches (SendDeferred,
// ReleaseDeferred) uses only the connection's own members. Only reader and
// handler threads own a connection, so one whose peer left is released
// when they do, parked calls or not.
class Server::Connection : public std::enable_shared_from_this<Connection>,
                           public ResponseSink,
                           public CallDeferrer {
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
  // A deferred call stays in flight past its Dispatch (whose caller counts
  // it down) until its DeferredResponse is answered or destroyed.
  std::unique_ptr<DeferredResponse> Defer(absl::string_view id_json) override
      ABSL_LOCKS_EXCLUDED(mu_) {
    {
      MutexLock lock(&mu_);
      ++in_flight_;
    }
    return std::make_unique<DeferredResponse>(shared_from_this(),
                                              std::string(id_json));
  }
  void ReleaseDeferred() override ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    --in_flight_;
    last_activity_ = zen::Now();
  }

  // Reads and dispatches until the connection ends or this thread is
  // relieved.
  void ReadLoop() ABSL_LOCKS_EXCLUDED(mu_);

  // Called by the supervisor: relieves a reader stuck in a slow handler by
  // starting a new reader thread. Returns true if it did. Sets *running when
  // a handler runs inline (relieved or not).
  bool RelieveIfSlow(absl::Time now, bool* running) ABSL_LOCKS_EXCLUDED(mu_);

  void Shutdown() { stream_->Shutdown(); }
  ipc::MessageStream* stream() { return stream_.get(); }

 private:
  // Counts a request in and, unless it is over the in-flight cap, marks its
  // handler as started by this thread (at *started). False if over the cap.
  bool BeginCall(pid_t tid, absl::Time* started) ABSL_LOCKS_EXCLUDED(mu_);
  // Counts the call of reader `reader` out (at *ended). False if that reader
  // was relieved meanwhile (it leaves); else sets *deadline for the next read.
  bool EndCall(uint64_t reader, absl::Time* deadline, absl::Time* ended)
      ABSL_LOCKS_EXCLUDED(mu_);
  // After a read failed with `status`: true if the connection stays open
  // (*deadline is then reset), false if the reader must leave.
  bool KeepsOpen(const absl::Status& status, absl::Time* deadline)
      ABSL_LOCKS_EXCLUDED(mu_);
  // When the next read gives up: a call in flight keeps the connection
  // open; otherwise the idle clock runs from the last activity.
  absl::Time IdleDeadlineLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const absl::Duration idle = server_->options_.idle_timeout;
    return in_flight_ > 0 ? zen::Now() + idle : last_activity_ + idle;
  }
  // Runs `request`'s handler on this thread and sees that the call is
  // answered exactly once: an unknown method gets UNIMPLEMENTED; a handler
  // that returns without responding gets `null` if it returned OK, else its
  // error (logged); an error returned after responding is only logged. A
  // response that cannot be written closes the connection (SendResponse).
  // `frame` holds the bytes `request` points into. Returns where the call
  // is counted, and sets *code to the code it was answered with.
  MethodStats* Dispatch(const ipc::Frame& frame, RequestView& request,
                        absl::StatusCode* code);
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
  internal::ReaderRelief relief_ ABSL_GUARDED_BY(mu_);
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

MethodStats* Server::Connection::Dispatch(const ipc::Frame& frame,
                                          RequestView& request,
                                          absl::StatusCode* code) {
  (void)frame;  // Keeps the request's bytes alive for the handler.
  const Method* method = server_->FindHandler(request.method);
  // Two pointers: small enough for std::function to hold without an
  // allocation. The sender is not used past this function (a deferred
  // answer goes through the connection's ResponseSink).
  const absl::string_view* id = &request.id_json;
  auto sender = [this, id](absl::Span<const absl::string_view> result,
                           const absl::Status& error) {
    SendResponse(*id, result, error);
  };
  ServerCall call(request.id_json, request.method, request.args, request.kwargs,
                  &server_->cancelled_, std::move(sender), this);
  if (method == nullptr) {
    call.RespondError(absl::UnimplementedError(
        absl::StrCat("undefined handler '", request.method, "'")));
    *code = absl::StatusCode::kUnimplemented;
    return server_->unknown_stats_;
  }
  absl::Status status = method->handler(call);
  const bool responded = call.responded();
  if (!status.ok())
    server_->WarnHandlerError(request.method, status, responded);
  if (!responded) {
    if (status.ok()) {
      call.Respond("null");
    } else {
      call.RespondError(status);
    }
  }
  *code = call.response_code();
  return method->stats;
}

void Server::Connection::ReadLoop() {
  const ServerOptions& options = server_->options_;
  const pid_t my_tid = CurrentThreadId();
  uint64_t me;
  absl::Time deadline;
  {
    MutexLock lock(&mu_);
    me = relief_.reader();
    deadline = IdleDeadlineLocked();
  }
  // Kept across calls: the method name's buffer is reused, so a name past
  // std::string's inline capacity (`calculate_rate_limits`) is not
  // allocated on every call. ParseRequest sets every field or none.
  RequestView request;
  for (;;) {
    // A long (so unknown) name's buffer is not kept while the thread waits.
    if (request.method.capacity() > kKeptMethodNameBytes) {
      std::string().swap(request.method);
    }
    absl::StatusOr<ipc::Frame> frame = stream_->Read(deadline);
    if (!frame.ok()) {
      if (KeepsOpen(frame.status(), &deadline)) continue;
      return;
    }
    absl::Status parsed = EnvelopeParser::ThreadLocal(options.max_json_depth)
                              .ParseRequest(frame->body, &request);
    if (!parsed.ok()) {
      if (absl::IsInvalidArgument(parsed)) {
        server_->counters_.malformed_ignored.fetch_add(
            1, std::memory_order_relaxed);
        continue;  // Wrong shape: ignored.
      }
      server_->counters_.dropped_non_json.fetch_add(1,
                                                    std::memory_order_relaxed);
      server_->WarnAboutCall(
          absl::StrCat("RPC server error: ", parsed.message()));
      stream_->Shutdown();
      return;
    }
    absl::Time started, ended;
    if (!BeginCall(my_tid, &started)) {
      SendResponse(request.id_json, {},
                   absl::ResourceExhaustedError(absl::StrCat(
                       "too many calls in flight on this connection (max ",
                       options.max_in_flight_per_connection, ")")));
      continue;
    }
    absl::StatusCode code;
    MethodStats* stats = Dispatch(*frame, request, &code);
    const bool still_reader = EndCall(me, &deadline, &ended);
    stats->Record(code, absl::ToInt64Nanoseconds(ended - started));
    ReleaseFrameAfterCall(&*frame);
    if (!still_reader) return;  // Relieved: another thread reads.
  }
}

bool Server::Connection::BeginCall(pid_t tid, absl::Time* started) {
  bool over_limit;
  {
    MutexLock lock(&mu_);
    last_activity_ = *started = zen::Now();
    over_limit = in_flight_ >= server_->options_.max_in_flight_per_connection;
    if (!over_limit) {
      ++in_flight_;
      relief_.HandlerStarted(last_activity_, tid);
    }
  }
  // Counted after mu_ is released: the supervisor reads them as activity.
  (over_limit ? server_->counters_.rejected_over_limit
              : server_->counters_.calls)
      .fetch_add(1, std::memory_order_relaxed);
  return !over_limit;
}

bool Server::Connection::EndCall(uint64_t reader, absl::Time* deadline,
                                 absl::Time* ended) {
  MutexLock lock(&mu_);
  --in_flight_;
  last_activity_ = *ended = zen::Now();
  if (!relief_.HandlerFinished(reader)) {
    server_->counters_.relieved_running.fetch_sub(1);
    return false;
  }
  *deadline = last_activity_ + server_->options_.idle_timeout;
  return true;
}

bool Server::Connection::KeepsOpen(const absl::Status& status,
                                   absl::Time* deadline) {
  if (absl::IsDeadlineExceeded(status)) {
    MutexLock lock(&mu_);
    // A call that is in flight, or that ended after the deadline was set,
    // keeps the connection open.
    if (in_flight_ > 0 ||
        zen::Now() - last_activity_ < server_->options_.idle_timeout) {
      *deadline = IdleDeadlineLocked();
      return true;
    }
    LogInfo("RPC server: closing idle connection");
  } else if (!absl::IsUnavailable(status)) {
    server_->WarnAboutCall(
        absl::StrCat("RPC server error: ", status.message()));
  }
  // Calls still in flight (their readers relieved) answer first: a client
  // that half-closed after sending still gets them. The stream closes when
  // the last of them releases the connection.
  MutexLock lock(&mu_);
  if (in_flight_ == 0) stream_->Shutdown();
  return false;
}

bool Server::Connection::RelieveIfSlow(absl::Time now, bool* running) {
  using Verdict = internal::ReaderRelief::Verdict;
  pid_t tid;
  uint64_t call;
  {
    MutexLock lock(&mu_);
    const Verdict verdict =
        relief_.Judge(now, server_->options_.inline_handler_budget);
    if (verdict == Verdict::kIdle) return false;
    *running = true;
    if (verdict == Verdict::kWithinBudget) return false;
    if (verdict == Verdict::kRelieve) return RelieveLocked();
    tid = relief_.tid();
    call = relief_.call();
  }
  // Asked without mu_ held: the reader takes mu_ when its handler returns,
  // and would look blocked while it waited for us.
  if (ThreadState(tid) == 'R') return false;  // Working or awaiting a CPU.
  MutexLock lock(&mu_);
  if (!relief_.StillRunning(call)) return false;  // Finished meanwhile.
  return RelieveLocked();
}

bool Server::Connection::RelieveLocked() {
  Counters& counters = server_->counters_;
  // Only the supervisor adds to relieved_running, so checking and adding
  // need no lock of their own.
  if (counters.relieved_running.load() >=
      server_->options_.max_relieved_handlers) {
    counters.reliefs_refused.fetch_add(1, std::memory_order_relaxed);
    return false;  // Asked again at the next tick.
  }
  // The thread is started first, under mu_: the new reader takes mu_ to read
  // its turn, and the handler's thread checks the relief under mu_ when its
  // handler returns, so neither sees a relief that did not happen. If no
  // thread can be created (EAGAIN under a task limit), the handler keeps its
  // reading, as at the cap: its connection's later calls wait for it.
  absl::Status started =
      server_->threads_.TrySpawn([self = shared_from_this()] {
        (void)SetThreadTimerSlack(self->server_->reader_timer_slack_);
        self->ReadLoop();
      });
  if (!started.ok()) {
    counters.reliefs_refused.fetch_add(1, std::memory_order_relaxed);
    const uint64_t failed = counters.thread_start_failures.fetch_add(1) + 1;
    server_->relief_warnings_.Log(
        LogLevel::kWarning,
        absl::StrCat("RPC server: slow handler left inline (", failed,
                     " times so far): ", started.message()),
        zen::Now());
    return false;
  }
  counters.relieved_running.fetch_add(1);
  relief_.Relieve();
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
  ZEN_ASSIGN_OR_RETURN(
      server->listener_,
      ipc::Listener::Create(secret, options.listener,
                            [raw](std::shared_ptr<ipc::SocketStream> stream) {
                              raw->ServeStream(std::move(stream));
                            }));
  return server;
}

Server::Server(ServerOptions options) : options_(std::move(options)) {}

Server::~Server() { Stop(); }

void Server::RegisterHandler(std::string method, Handler handler) {
  if (started_.load()) {
    LogError("RPC server: RegisterHandler('", method, "') after Start ignored");
    return;
  }
  handlers_[method] = Method{std::move(handler), method_stats_.Find(method)};
}

const Server::Method* Server::FindHandler(absl::string_view method) const {
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
  reader_timer_slack_ = ThreadTimerSlack();
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
  // Each tick may ride on a timer interrupt the CPU takes anyway rather than
  // raise its own (ServerOptions::inline_handler_budget; docs/benchmarks.md).
  (void)SetThreadTimerSlack(
      std::min(options_.inline_handler_budget, kIdleSupervisorTick));
  uint64_t activity_seen = 0;
  // Kept across ticks (cleared, capacity kept): a tick allocates nothing.
  std::vector<std::shared_ptr<Connection>> live;
  MutexLock lock(&mu_);
  while (!stopping_) {
    // Prune closed connections; judge the live ones with mu_ released, so
    // that connections arriving meanwhile are not held up.
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
    WithUnlocked(&mu_, [&] {
      uint64_t reliefs = 0;
      for (auto& c : live) {
        // A relief starts its new reader itself (RelieveLocked).
        if (c->RelieveIfSlow(now, &any_inline)) ++reliefs;
      }
      counters_.reliefs.fetch_add(reliefs, std::memory_order_relaxed);
      live.clear();  // Last owners of closed connections release them here.
    });
    // Tick at the budget while calls flow; after a quiet tick, slow down
    // (an idle parent whose workers only ping should not wake 500 times a
    // second). A slow handler that starts after a quiet spell is relieved
    // within the idle tick instead. Quiet: no call arrived and none runs
    // inline (one that does may pass its budget before the next tick).
    const uint64_t activity =
        counters_.calls.load(std::memory_order_relaxed) +
        counters_.rejected_over_limit.load(std::memory_order_relaxed);
    const bool quiet = activity == activity_seen && !any_inline;
    activity_seen = activity;
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

// The counters, read without stopping the server.
ServerStats Server::stats() const {
  ServerStats s;
  s.calls = counters_.calls.load(std::memory_order_relaxed);
  s.malformed_ignored =
      counters_.malformed_ignored.load(std::memory_order_relaxed);
  s.dropped_non_json =
      counters_.dropped_non_json.load(std::memory_order_relaxed);
  s.rejected_over_limit =
      counters_.rejected_over_limit.load(std::memory_order_relaxed);
  s.reliefs = counters_.reliefs.load(std::memory_order_relaxed);
  s.warnings_suppressed =
      counters_.warnings_suppressed.load(std::memory_order_relaxed);
  s.reliefs_refused = counters_.reliefs_refused.load(std::memory_order_relaxed);
  {
    MutexLock lock(&mu_);
    for (const auto& weak : connections_) s.connections += !weak.expired();
  }
  s.refused_no_thread = listener_->refused_no_thread();
  s.thread_start_failures =
      counters_.thread_start_failures.load(std::memory_order_relaxed) +
      s.refused_no_thread;
  s.parked_threads = threads_.parked() + listener_->parked_threads();
  const ipc::FrameBudget& budget = *options_.listener.stream.frame_budget;
  s.large_frames_refused = budget.refused();
  s.large_frame_bytes = budget.held();
  return s;
}

void Server::AbandonAfterFork() {
  if (listener_ != nullptr) listener_.release()->AbandonAfterFork();
  threads_.AbandonAfterFork();
}

}  // namespace zen::rpc
