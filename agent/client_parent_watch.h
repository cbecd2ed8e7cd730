// ParentExitWatch: what an AgentClient does once the process that forked it
// has exited: notice it, make calls fail fast, and reach a server again.
//
// The parent's server may outlive the parent (a grandchild's server is its
// grandparent's), so an exit alone changes nothing: only when the server
// cannot be reached either (a call found the connection refused or closed,
// or a ping failed) do calls fail fast. Then the connection stops its own
// retries, the exit is reported once per process (ParentDeath), and Step()
// tries the server again after ParentDeath's growing waits; once it
// answers, calls go through again.
//
// Thread-safe: exited(), NoteFailure() and ExitedError() from any thread;
// Step() from one thread at a time (the client's schedule). Does not own
// the transport or the ParentDeath, which must outlive it.
#ifndef ZEN_AGENT_CLIENT_PARENT_WATCH_H_
#define ZEN_AGENT_CLIENT_PARENT_WATCH_H_

#include <atomic>
#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/agent_transport.h"
#include "agent/parent_death.h"
#include "base/log_throttle.h"

namespace zen {

class ParentExitWatch {
 public:
  // `check_interval`: how often Step() looks at getppid() while the parent
  // lives. `on_exited` runs (on the thread that found it) when calls start
  // to fail fast, so that the owner runs Step() at once; `on_reached`
  // (on Step()'s thread) when a server answers again after the exit.
  ParentExitWatch(AgentTransport* transport, ParentDeath* death,
                  absl::Duration check_interval, absl::Duration log_interval,
                  std::function<void()> on_exited,
                  std::function<void()> on_reached);
  ParentExitWatch(const ParentExitWatch&) = delete;
  ParentExitWatch& operator=(const ParentExitWatch&) = delete;

  // Whether there is a parent to watch (ParentDeath has a parent pid).
  bool watching() const { return death_->parent_pid() != 0; }
  // The parent exited and its server is not reachable: calls fail fast.
  bool exited() const { return exited_.load(std::memory_order_acquire); }
  // kUnavailable, naming the parent: what a call says while exited().
  absl::Status ExitedError() const { return death_->ExitedError(); }

  // A call failed with `status`. Refused or closed (kUnavailable) while the
  // parent is gone: the server went with it, calls fail fast from now on.
  // Returns the status the caller reports.
  absl::Status NoteFailure(const absl::Status& status);

  // One step of the watch; returns the wait before the next. While the
  // parent lives: a getppid() (and after its exit, while the connection is
  // up, one ping). Once exited(): first stops the connection and reports the
  // exit, then at each later step one attempt to reach the server.
  absl::Duration Step();

 private:
  // Returns whether this call set exited(). Step() found it itself and
  // goes on at once, so only NoteFailure() runs on_exited.
  bool MarkExited();
  void CheckParent();   // Step() while calls go through.
  void OnExited();      // Step()'s first once exited().
  bool TryReconnect();  // Step()'s later ones.

  AgentTransport* const transport_;
  ParentDeath* const death_;
  const absl::Duration check_interval_;
  const std::function<void()> on_exited_;
  const std::function<void()> on_reached_;
  LogThrottle log_;
  std::atomic<bool> exited_{false};
  // Step()'s thread only.
  bool exit_handled_ = false;   // This episode's OnExited() ran.
  bool orphan_probed_ = false;  // A server answered after the parent's exit.
};

}  // namespace zen

#endif  // ZEN_AGENT_CLIENT_PARENT_WATCH_H_
