// Agent: what a pre-forking host program creates once, in the parent.
#ifndef ZEN_AGENT_AGENT_H_
#define ZEN_AGENT_AGENT_H_

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/agent_client.h"
#include "agent/agent_server.h"
#include "agent/parent_death.h"
#include "base/fork_guard.h"
#include "base/log_throttle.h"
#include "base/mutex.h"
#include "ipc/connector.h"
#include "ipc/secret.h"

namespace zen {

struct AgentOptions {
  AgentServerOptions server;
  // transport, host/port and unix_path are filled in from the server (whose
  // transport server.server.listener.transport chooses).
  AgentClientOptions client;
  // Opt-in: every process forked from one that holds this Agent gets
  // `exit_with_parent_signal` when its parent exits (prctl
  // PR_SET_PDEATHSIG, armed in the fork handler right after fork(); a
  // parent that died before that is caught by comparing getppid() with the
  // parent's pid, and the signal is then raised at once). The kernel's
  // rules apply: the signal comes when the parent's *thread* that forked
  // exits, so fork workers from a thread that lives as long as the parent;
  // it survives execve(), so a helper the parent forks and execs gets it
  // too. Without it, a worker whose parent died goes on serving, its agent
  // calls failing fast (see AgentClientOptions::parent_pid).
  bool exit_with_parent = false;
  int exit_with_parent_signal = SIGTERM;
};

// Owns the secret and the parent's AgentServer, and gives every process its
// own AgentClient: the parent one that calls the server's AgentService
// directly, every descendant one connected to the parent's server.
//
// At the fork itself, a fork handler closes the child's copies of the
// server's listening socket and connections (ipc::Listener), so a child
// holds none of them even before its first call. Fork detection is one pid
// comparison per client() call. The first call in a new process (a worker,
// or a worker's child) drops the rest of what it inherited without touching
// the parent's sockets (its copies are closed, never shut down; no lock held
// by a thread that did not survive the fork is waited on) and connects a
// fresh client to the original parent's server.
//
// Thread-safe. Create it in the parent before forking; keep it alive for the
// life of the process (children use their inherited copy).
class Agent {
 public:
  // Makes a new secret, creates and starts the server.
  static absl::StatusOr<std::unique_ptr<Agent>> Create(
      AgentOptions options = {});
  ~Agent();

  // True in the process that created the Agent.
  bool is_parent() const;

  // The parent's server; nullptr in any other process.
  AgentServer* server();

  // This process's client, the same API everywhere. In the parent (a
  // single-process server, a test, a parent handling a request itself) it
  // calls the server's AgentService directly (AgentClient::CreateInProcess):
  // same answers, same events folded as a worker's, no socket. In a
  // descendant it is made on the first call after each fork; nullptr while
  // the parent cannot be reached (the next call retries, at most once per
  // reconnect delay), or, anywhere, when its thread cannot be created.
  AgentClient* client();

  // False in a descendant once the process that forked it has exited; true
  // in the parent. One getppid() call.
  bool parent_alive() const;

 private:
  Agent(AgentOptions options, ipc::Secret secret);
  AgentClient* ClientAfterForkSlow(pid_t pid) ABSL_LOCKS_EXCLUDED(mu_);
  // Makes this object belong to process `pid`: in a new process, abandons
  // (closes, never shuts down) what was inherited.
  void AdoptProcessLocked(pid_t pid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // In every child, right after fork (a ForkChildHandler).
  void OnForkChild();
  // A record of the death of `parent` (0: none) with the client's options.
  std::shared_ptr<ParentDeath> NewParentDeath(pid_t parent) const;
  // A descendant could not connect: when its parent is gone, reports that
  // once and spaces the next attempts out; returns the next attempt's time.
  absl::Time NextAttemptAfterFailureLocked(const absl::Status& failure)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const AgentOptions options_;
  const ipc::Secret secret_;
  std::atomic<pid_t> owner_pid_;  // The process the current state belongs to.
  pid_t parent_pid_;              // The process that created the server.
  Mutex mu_;
  ForkGuardRegistration fork_guard_{&mu_};
  std::string server_host_ ABSL_GUARDED_BY(mu_);
  uint16_t server_port_ ABSL_GUARDED_BY(mu_) = 0;
  std::string server_unix_path_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<AgentServer> server_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<AgentClient> client_ ABSL_GUARDED_BY(mu_);
  std::atomic<AgentClient*> client_ptr_{nullptr};
  absl::Time next_attempt_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool connecting_ ABSL_GUARDED_BY(mu_) = false;
  // This process's pid, and the pid of the process that forked it (0 in the
  // parent): written only by OnForkChild, while the child has one thread.
  std::atomic<pid_t> self_pid_;
  std::atomic<pid_t> forked_from_{0};
  LogThrottle connect_log_{options_.client.log_interval};
  // This process's record of its parent's death (made anew in each process
  // at its first client() call), shared with the client made there.
  std::shared_ptr<ParentDeath> parent_death_ ABSL_GUARDED_BY(mu_);
  bool retrying_dead_parent_ ABSL_GUARDED_BY(mu_) = false;
  // Last: registered after, and unregistered before, what it touches.
  ForkChildHandler fork_child_{[this] { OnForkChild(); }};
};

}  // namespace zen

#endif  // ZEN_AGENT_AGENT_H_
