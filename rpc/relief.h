// Relief: moving a connection's reading off a thread whose handler runs
// long. Internal to rpc::Server.
#ifndef ZEN_RPC_RELIEF_H_
#define ZEN_RPC_RELIEF_H_

#include <sys/types.h>

#include <cstdint>

#include "absl/time/time.h"

namespace zen::rpc::internal {

// A handler runs on the thread that read its request: no thread switch,
// which is what makes a short call fast. But while it runs, nothing else of
// its connection is read, so a slow handler would hold up every later call
// of that connection. The server's supervisor therefore looks at each
// connection every tick and relieves a reader whose handler has run past
// the budget (ServerOptions::inline_handler_budget): a new thread becomes
// the connection's reader, and the old one finishes its handler and leaves.
//
// A handler over budget is relieved at once if it is blocked (asleep in a
// wait: moving the reading costs nothing anyone needs). One that is
// runnable is working, or waiting for a CPU, which on a loaded machine is
// most of the wall time; relieving it would only add one more thread to
// the run queue, in front of it. So a runnable handler is relieved only
// once it has run kRunnableReliefFactor budgets: that is the longest a
// CPU-bound handler may hold up its connection's later calls.
inline constexpr int kRunnableReliefFactor = 10;

// One connection's reader and the handler it runs, as the supervisor judges
// them. Not thread-safe: the connection's lock guards it.
class ReaderRelief {
 public:
  // What the supervisor does about a connection at a tick.
  enum class Verdict {
    kIdle,             // No handler runs on the reader.
    kWithinBudget,     // One does, within its budget: look next tick.
    kRelieve,          // Relieve now.
    kRelieveIfBlocked  // Over budget: relieve unless the handler's thread
                       // (tid()) is runnable; ask with the lock released,
                       // then confirm with StillRunning(call()).
  };

  // The reader that is current: a reader keeps the value it saw when it
  // started, and its handler's end tells it whether it still reads.
  uint64_t reader() const { return reader_; }

  // The reader's thread `tid` starts a handler at `now`.
  void HandlerStarted(absl::Time now, pid_t tid) {
    running_ = true;
    started_ = now;
    tid_ = tid;
    ++call_;
  }

  // The handler of reader `reader` returned. True if that reader still
  // reads; false if it was relieved meanwhile (its thread must leave).
  bool HandlerFinished(uint64_t reader) {
    if (reader != reader_) return false;
    running_ = false;
    return true;
  }

  Verdict Judge(absl::Time now, absl::Duration budget) const {
    if (!running_) return Verdict::kIdle;
    const absl::Duration elapsed = now - started_;
    if (elapsed < budget) return Verdict::kWithinBudget;
    if (elapsed >= kRunnableReliefFactor * budget) return Verdict::kRelieve;
    return Verdict::kRelieveIfBlocked;
  }

  // For kRelieveIfBlocked: the thread, and which handler was judged.
  pid_t tid() const { return tid_; }
  uint64_t call() const { return call_; }
  bool StillRunning(uint64_t call) const { return running_ && call_ == call; }

  // The running handler's thread stops being the reader; a new one (the
  // caller starts it) reads from now on.
  void Relieve() {
    ++reader_;
    running_ = false;
  }

 private:
  uint64_t reader_ = 0;   // Bumped at each relief.
  bool running_ = false;  // The reader runs a handler.
  absl::Time started_;    // When it started.
  pid_t tid_ = 0;         // The thread running it.
  uint64_t call_ = 0;     // Bumped per handler started.
};

}  // namespace zen::rpc::internal

#endif  // ZEN_RPC_RELIEF_H_
