// Server: dispatches calls arriving on authenticated connections.
#ifndef ZEN_RPC_SERVER_H_
#define ZEN_RPC_SERVER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/fork_guard.h"
#include "base/log_throttle.h"
#include "base/mutex.h"
#include "base/thread_group.h"
#include "ipc/listener.h"
#include "ipc/message_stream.h"
#include "ipc/secret.h"
#include "rpc/method_metrics.h"
#include "rpc/server_call.h"

namespace zen::rpc {

// The supervisor's tick while no call has arrived since its last tick.
inline constexpr absl::Duration kIdleSupervisorTick = absl::Milliseconds(50);

struct ServerOptions {
  // Address, handshake deadline, connection caps and the maximum frame size.
  ipc::ListenerOptions listener;
  // A connection with no call in flight that sends no frame for this long is
  // closed (the reference's 5 s; clients ping every 4 s).
  absl::Duration idle_timeout = absl::Seconds(5);
  // Calls of one connection in flight at once; more are answered
  // RESOURCE_EXHAUSTED at once.
  size_t max_in_flight_per_connection = 256;
  // Handlers start on the thread that read their request (no thread switch).
  // One still running after this long, and blocked, is relieved: its
  // connection's reading moves to another thread (rpc/relief.h; a runnable
  // one, after ten times this long). The supervisor looks every budget while
  // calls flow, and lets the kernel defer each look by up to a budget more
  // (timer slack, so that it shares a timer interrupt rather than raising
  // one), so a slow handler holds up later calls of its connection for one
  // to three budgets while calls flow, and at most kIdleSupervisorTick plus
  // a budget after a quiet spell.
  absl::Duration inline_handler_budget = absl::Milliseconds(2);
  // Relieved handlers (each holds a thread of its own) still running, at
  // most, server-wide. At the cap a slow handler keeps its connection's
  // reading, so that connection's later calls wait for it, rather than the
  // server adding threads without bound (a worker looping over a blocking
  // method could otherwise make 256 per connection).
  size_t max_relieved_handlers = 256;
  // Nesting deeper than this in a request is malformed.
  size_t max_json_depth = 64;
  // Bytes that frames over 128 KiB may hold at once across all connections,
  // from their header until their call is done with them (ipc/frame_budget.h).
  // Beyond it a new large frame is refused and its connection dropped. At
  // least listener.stream.max_frame_size, or the largest frames are always
  // refused. Ignored when listener.stream.frame_budget is already set.
  size_t max_large_frame_bytes = size_t{128} << 20;
  // Warnings about a peer's calls (a handler's error, such as arguments
  // that do not decode; a frame that is not JSON) go out at most once per
  // this interval, the next one saying how many were suppressed
  // (LogThrottle): a worker must not write the parent's log at its own rate.
  absl::Duration log_interval = absl::Seconds(10);
};

// Counters, for tests and monitoring.
struct ServerStats {
  uint64_t calls = 0;                // Well-formed requests dispatched.
  uint64_t malformed_ignored = 0;    // JSON of the wrong shape (no response).
  uint64_t dropped_non_json = 0;     // Connections dropped for non-JSON frames.
  uint64_t rejected_over_limit = 0;  // Calls refused by the in-flight cap.
  // Reliefs (see inline_handler_budget): times a slow handler's reading
  // moved, and slow handlers left inline (at max_relieved_handlers, or no
  // thread could be created).
  uint64_t reliefs = 0;
  uint64_t reliefs_refused = 0;
  uint64_t refused_no_thread = 0;      // Connections closed: no thread for
                                       // their handshake (EAGAIN).
  uint64_t thread_start_failures = 0;  // Threads that could not be created.
  // Warnings about calls not logged (ServerOptions::log_interval).
  uint64_t warnings_suppressed = 0;
  uint64_t large_frames_refused = 0;  // Over max_large_frame_bytes.
  size_t large_frame_bytes = 0;       // Held by large frames now.
  size_t connections = 0;             // Authenticated connections now.
  size_t parked_threads = 0;          // Idle threads kept for reuse.
};

// An RPC server speaking the reference protocol (docs/protocol.md): requests
// `[id, method, args, kwargs]`, responses `[id, result, error]`, with our
// errors sent as {"code": "...", "message": "..."}.
//
// Thread-safe. Register handlers before Start(). Owns every thread it starts;
// Stop() (and the destructor) joins them.
class Server {
 public:
  // Binds at once (port() is known before Start). `secret` is not owned and
  // must outlive the server.
  static absl::StatusOr<std::unique_ptr<Server>> Create(
      const ipc::Secret* secret, ServerOptions options = {});

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers `handler` under the wire name `method`, replacing any earlier
  // one. Must be called before Start().
  void RegisterHandler(std::string method, Handler handler)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Starts accepting. kFailedPrecondition if already started or stopped;
  // kResourceExhausted if its supervisor or accept thread cannot be created.
  // Never ends the process for want of a thread: a connection whose
  // handshake gets no thread is closed and counted (refused_no_thread), a
  // slow handler whose relief gets none stays inline (reliefs_refused).
  absl::Status Start();

  // Stops accepting, marks in-flight calls cancelled and lets them finish
  // (their responses are dropped if the connection is gone), closes every
  // connection and joins every thread. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Closes only the listening socket; connections keep being served.
  void Close();

  // For a forked child that inherited this server: closes this process's
  // copies of every socket without shutdown(2) and forgets the parent's
  // threads. Call with no other thread running, then leak the object.
  void AbandonAfterFork();

  const std::string& host() const { return listener_->host(); }
  uint16_t port() const { return listener_->port(); }
  // The socket's path for the kUnix transport (empty for TCP).
  const std::string& unix_path() const { return listener_->unix_path(); }
  // What the listener accepted and refused (peer checks, busy slots).
  ipc::ListenerStats listener_stats() const { return listener_->stats(); }

  ServerStats stats() const ABSL_LOCKS_EXCLUDED(mu_);

  // Per registered method (methods with no call yet included): calls that
  // ended, by the code of their response, and the time from reading the
  // request to the handler's return (a deferred call counts OK then; its
  // later answer is not timed). Calls of unregistered methods count under
  // kUnknownMethod, not their names (a peer's names are not stored); calls
  // refused by the in-flight cap only in stats(). Methods past
  // MethodStatsTable::kCapacity share one series.
  MetricsSnapshot method_metrics() const { return method_stats_.Snapshot(); }
  static constexpr absl::string_view kUnknownMethod = "_unknown";

  // Serves one already-authenticated stream on the calling thread until it
  // ends. The listener uses it for every connection; tests use it with an
  // in-memory stream.
  void ServeStream(std::shared_ptr<ipc::MessageStream> stream);

 private:
  class Connection;
  friend class Connection;
  Server(ServerOptions options);

  void SupervisorLoop() ABSL_LOCKS_EXCLUDED(mu_);
  // A registered handler and its counters.
  struct Method {
    Handler handler;
    MethodStats* stats;  // In method_stats_.
  };
  const Method* FindHandler(absl::string_view method) const;
  // Logs a warning about a peer's call through call_warnings_, counting
  // it if suppressed.
  void WarnAboutCall(absl::string_view message);
  // The warning for a handler that returned `error` (before or after it
  // responded), through WarnAboutCall.
  void WarnHandlerError(absl::string_view method, const absl::Status& error,
                        bool after_responding);

  const ServerOptions options_;
  std::unique_ptr<ipc::Listener> listener_;
  absl::flat_hash_map<std::string, Method> handlers_;  // Frozen by Start().
  // Slots are found at registration: a call only follows a pointer.
  MethodStatsTable method_stats_;
  MethodStats* const unknown_stats_ = method_stats_.Find(kUnknownMethod);
  std::atomic<bool> started_{false};
  std::atomic<bool> cancelled_{false};
  // Kept out of mu_: a reader that blocked on mu_ while the supervisor held
  // it would look like a slow handler. Also the supervisor's measure of
  // activity (calls + rejected_over_limit).
  struct Counters {
    std::atomic<uint64_t> calls{0};
    std::atomic<uint64_t> malformed_ignored{0};
    std::atomic<uint64_t> dropped_non_json{0};
    std::atomic<uint64_t> rejected_over_limit{0};
    std::atomic<uint64_t> reliefs{0};
    std::atomic<uint64_t> reliefs_refused{0};
    // Relief threads that could not be created (EAGAIN under a task limit).
    std::atomic<uint64_t> thread_start_failures{0};
    std::atomic<uint64_t> warnings_suppressed{0};
    // Relieved handlers still running (max_relieved_handlers): not a count
    // of events, but it is kept with them for the same reason.
    std::atomic<size_t> relieved_running{0};
  };
  Counters counters_;
  LogThrottle call_warnings_{options_.log_interval};
  LogThrottle relief_warnings_{options_.log_interval};

  mutable Mutex mu_;
  CondVar supervisor_wake_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::weak_ptr<Connection>> connections_ ABSL_GUARDED_BY(mu_);
  ForkGuardRegistration fork_guard_{&mu_};

  // Supervisor and relieving readers; a few parked ones make a relief a
  // wake-up rather than a thread creation.
  ThreadGroup threads_{/*max_parked=*/4, absl::Seconds(10)};
  // The timer slack of the thread that called Start(), which the
  // listener's readers inherit: a relieving reader, started by the
  // supervisor (whose slack is large) or reused from the parked ones, sets
  // it back, so its handlers' timed waits keep their precision. Written
  // before any thread starts.
  absl::Duration reader_timer_slack_;
};

}  // namespace zen::rpc

#endif  // ZEN_RPC_SERVER_H_
