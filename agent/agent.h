// Agent: what a pre-forking host program creates once, in the parent.
#ifndef ZEN_AGENT_AGENT_H_
#define ZEN_AGENT_AGENT_H_

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/agent_client.h"
#include "agent/agent_server.h"
#include "agent/model/rate_limit_zone.h"
#include "agent/parent_death.h"
#include "base/fork_guard.h"
#include "base/log_throttle.h"
#include "base/mutex.h"
#include "ipc/connector.h"
#include "ipc/secret.h"

namespace zen {

// The rate-limit zone (agent/model/rate_limit_zone.h) an Agent maps in the
// parent before any fork: its windows are shared by the parent's
// calculate_rate_limits and every worker, which decide rate limits in it
// without a round trip. The defaults are RateLimitZoneOptions'.
struct AgentRateLimitZoneOptions {
  // Off (or `bytes` 0): every worker asks the parent over RPC.
  bool enabled = true;
  // Size of the mapping, fixed for the Agent's life: windows it holds at
  // once (the least recently used is forgotten past that).
  size_t bytes = RateLimitZoneOptions().bytes;
  // Most requests one window remembers: the largest limit decided in the
  // zone; an endpoint with a higher maxRequests is decided by the parent.
  size_t max_requests_per_window =
      RateLimitZoneOptions().max_requests_per_window;
  // Longest a check waits for a process holding the zone's lock; past it,
  // a worker asks the parent and the parent counts in its own windows
  // (RateLimiter, ZoneFallback).
  absl::Duration lock_timeout = RateLimitZoneOptions().lock_timeout;
};

struct AgentOptions {
  AgentServerOptions server;
  // server.rate_limiter.zone is set by the Agent to its own zone.
  AgentRateLimitZoneOptions rate_limit_zone;
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
  // Makes a new secret, maps the rate-limit zone, creates and starts the
  // server. InvalidArgument for zone options no zone can have (bytes that
  // hold fewer than two windows, max_requests_per_window 0 or above 1<<20);
  // a zone the kernel refuses to map is only logged (see
  // rate_limit_zone()).
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

  // The rate-limit zone mapped by the parent in Create(), inherited by every
  // descendant; nullptr when disabled or when it could not be mapped (then
  // a warning was logged once and every rate limit goes to the parent).
  // Owned by the Agent; valid in every process until the Agent is destroyed
  // there. Thread-safe (see RateLimitZone).
  RateLimitZone* rate_limit_zone() const { return zone_.get(); }

  // The key workers authenticate with, for a worker that speaks the
  // protocol on its own rpc::Channel rather than through client(). Every
  // descendant holds it already (inherited memory). Never log or send it.
  const ipc::Secret& secret() const { return secret_; }

  // Where the parent's server listens: TCP host and port, or the Unix
  // socket's path (then host is empty and port 0). Fixed in Create(); the
  // same answer in the parent and every descendant (inherited memory), for
  // a worker that speaks the protocol on its own, like secret().
  struct ListenAddress {
    ipc::Transport transport = ipc::Transport::kTcp;
    std::string host;
    uint16_t port = 0;
    std::string unix_path;
  };
  ListenAddress listen_address() ABSL_LOCKS_EXCLUDED(mu_);

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
  // Set once in Create(), before the server starts and before any fork.
  std::unique_ptr<RateLimitZone> zone_;
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
