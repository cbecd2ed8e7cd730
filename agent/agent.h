// Agent: what a pre-forking host program creates once, in the parent.
#ifndef ZEN_AGENT_AGENT_H_
#define ZEN_AGENT_AGENT_H_

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/agent_client.h"
#include "agent/agent_server.h"
#include "base/fork_guard.h"
#include "base/mutex.h"
#include "ipc/secret.h"

namespace zen {

struct AgentOptions {
  AgentServerOptions server;
  // transport, host/port and unix_path are filled in from the server (whose
  // transport server.server.listener.transport chooses).
  AgentClientOptions client;
};

// Owns the secret and the parent's AgentServer, and gives every descendant
// process its own AgentClient.
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

  // This process's client: nullptr in the parent. In a descendant it is made
  // on the first call after each fork; nullptr while the parent cannot be
  // reached (the next call retries, at most once per reconnect delay).
  AgentClient* client();

 private:
  Agent(AgentOptions options, ipc::Secret secret);
  AgentClient* ClientAfterForkSlow(pid_t pid) ABSL_LOCKS_EXCLUDED(mu_);
  // Makes this object belong to process `pid`: in a new process, abandons
  // (closes, never shuts down) what was inherited.
  void AdoptProcessLocked(pid_t pid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

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
};

}  // namespace zen

#endif  // ZEN_AGENT_AGENT_H_
