#include "agent/agent.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/parent_death.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/status_macros.h"

namespace zen {
namespace {

// The zone as `options` ask, or none: disabled, or not mapped (logged; the
// Agent then works as without one, every rate limit asked of the parent).
// Options no zone can have (fewer than two windows, a window of no
// requests) are the caller's error: InvalidArgument.
absl::StatusOr<std::unique_ptr<RateLimitZone>> CreateRateLimitZone(
    const AgentRateLimitZoneOptions& options) {
  if (!options.enabled || options.bytes == 0) {
    return std::unique_ptr<RateLimitZone>();
  }
  RateLimitZoneOptions zone_options;
  zone_options.bytes = options.bytes;
  zone_options.max_requests_per_window = options.max_requests_per_window;
  zone_options.lock_timeout = options.lock_timeout;
  absl::StatusOr<std::unique_ptr<RateLimitZone>> zone =
      RateLimitZone::Create(zone_options);
  if (absl::IsInvalidArgument(zone.status())) return zone.status();
  if (!zone.ok()) {
    LogWarning(
        "running without a shared rate-limit zone (workers ask the "
        "parent for every rate limit): ",
        zone.status().message());
    return std::unique_ptr<RateLimitZone>();
  }
  return zone;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Agent>> Agent::Create(AgentOptions options) {
  ZEN_ASSIGN_OR_RETURN(ipc::Secret secret, ipc::Secret::Generate());
  std::unique_ptr<Agent> agent(
      new Agent(std::move(options), std::move(secret)));
  // Mapped before the server starts and before the host forks: every
  // worker inherits it, and the parent's limiter counts in it too.
  ZEN_ASSIGN_OR_RETURN(agent->zone_,
                       CreateRateLimitZone(agent->options_.rate_limit_zone));
  AgentServerOptions server_options = agent->options_.server;
  server_options.rate_limiter.zone = agent->zone_.get();
  ZEN_ASSIGN_OR_RETURN(std::unique_ptr<AgentServer> server,
                       AgentServer::Create(&agent->secret_, server_options));
  ZEN_RETURN_IF_ERROR(server->Start());
  MutexLock lock(&agent->mu_);
  agent->server_host_ = server->host();
  agent->server_port_ = server->port();
  agent->server_unix_path_ = server->unix_path();
  agent->server_ = std::move(server);
  return agent;
}

Agent::Agent(AgentOptions options, ipc::Secret secret)
    : options_(std::move(options)),
      secret_(std::move(secret)),
      owner_pid_(::getpid()),
      parent_pid_(::getpid()),
      self_pid_(::getpid()),
      parent_death_(NewParentDeath(0)) {}

std::shared_ptr<ParentDeath> Agent::NewParentDeath(pid_t parent) const {
  return std::make_shared<ParentDeath>(
      parent, options_.client.reconnect_delay,
      options_.client.dead_parent_max_retry_delay,
      options_.client.on_parent_exit);
}

void Agent::OnForkChild() {
  // The fork handler runs in the child on its only thread; the pids are
  // atomics only so that later readers on other threads need no lock.
  const pid_t parent = self_pid_.load(std::memory_order_relaxed);
  forked_from_.store(parent, std::memory_order_relaxed);
  self_pid_.store(::getpid(), std::memory_order_relaxed);
  if (options_.exit_with_parent) {
    ArmParentDeathSignal(parent, options_.exit_with_parent_signal);
  }
}

bool Agent::parent_alive() const {
  const pid_t parent = forked_from_.load(std::memory_order_relaxed);
  return parent == 0 || ::getppid() == parent;
}

Agent::~Agent() {
  std::unique_ptr<AgentClient> client;
  std::unique_ptr<AgentServer> server;
  {
    MutexLock lock(&mu_);
    // A process that never called client() after its fork still holds its
    // parent's objects: abandon them rather than stopping the parent's
    // threads (which do not exist here).
    AdoptProcessLocked(::getpid());
    client_ptr_.store(nullptr, std::memory_order_release);
    client = std::move(client_);
    server = std::move(server_);
  }
  // Stopped without mu_: Stop() waits for every thread of the client or
  // server, and mu_ is fork-guarded, so holding it here would stall every
  // fork() of the host until the Stop() ended.
  if (client != nullptr) client->Stop();
  if (server != nullptr) server->Stop();
}

bool Agent::is_parent() const { return ::getpid() == parent_pid_; }

Agent::ListenAddress Agent::listen_address() {
  MutexLock lock(&mu_);
  ListenAddress address;
  address.transport = options_.server.server.listener.transport;
  address.host = server_host_;
  address.port = server_port_;
  address.unix_path = server_unix_path_;
  return address;
}

AgentServer* Agent::server() {
  if (!is_parent()) return nullptr;
  MutexLock lock(&mu_);
  return server_.get();
}

AgentClient* Agent::client() {
  const pid_t pid = ::getpid();
  // The hot path: one pid comparison and an atomic load.
  if (pid == owner_pid_.load(std::memory_order_acquire)) {
    AgentClient* client = client_ptr_.load(std::memory_order_acquire);
    if (client != nullptr) return client;
  }
  return ClientAfterForkSlow(pid);
}

void Agent::AdoptProcessLocked(pid_t pid) {
  if (owner_pid_.load() != pid) {
    // First use in this process since a fork. Only the forking thread came
    // along, and the fork guard kept every library lock consistent, so the
    // inherited objects can be taken apart without waiting on anything. Our
    // copies of the parent's (or the parent worker's) sockets are closed,
    // never shut down: those connections belong to the other process.
    if (server_ != nullptr) server_.release()->AbandonAfterFork();
    if (client_ != nullptr) client_.release()->AbandonAfterFork();
    client_ptr_.store(nullptr, std::memory_order_release);
    next_attempt_ = absl::InfinitePast();
    connecting_ = false;  // A connect in flight was the other process's.
    // This process's own record (its retry waits seeded anew, so siblings
    // do not retry in lockstep), shared with the client it makes.
    parent_death_ =
        NewParentDeath(forked_from_.load(std::memory_order_relaxed));
    retrying_dead_parent_ = false;
    owner_pid_.store(pid, std::memory_order_release);
  }
}

AgentClient* Agent::ClientAfterForkSlow(pid_t pid) {
  AgentClientOptions options = options_.client;
  AgentService* local = nullptr;  // In the parent: the server's service.
  {
    MutexLock lock(&mu_);
    AdoptProcessLocked(pid);
    if (client_ != nullptr) return client_.get();
    if (pid == parent_pid_) {
      if (server_ == nullptr) return nullptr;
      local = &server_->service();
    }
    // Connect (a grandchild connects to the original parent too), at most
    // once per reconnect delay while the parent cannot be reached, and by one
    // thread at a time.
    const absl::Time now = zen::Now();
    if (connecting_ || now < next_attempt_) return nullptr;
    connecting_ = true;
    options.transport = options_.server.server.listener.transport;
    options.host = server_host_;
    options.port = server_port_;
    options.unix_path = server_unix_path_;
    options.parent_pid = forked_from_.load(std::memory_order_relaxed);
    // A descendant decides rate limits in the zone the parent mapped; the
    // parent's own client calls the service, whose limiter counts in it.
    if (local == nullptr) options.rate_limit_zone = zone_.get();
    // Reported once per process, whether the Agent or its client finds the
    // parent gone first.
    options.parent_death = parent_death_;
  }
  // Not under mu_: connecting can take seconds, and a fork() meanwhile must
  // not wait for it (mu_ is fork-guarded). In the parent the client calls
  // the server's service directly: the one code path, no socket.
  absl::StatusOr<std::unique_ptr<AgentClient>> client =
      local != nullptr ? AgentClient::CreateInProcess(local, options)
                       : AgentClient::Create(&secret_, options);
  std::shared_ptr<ParentDeath> report_to;
  {
    MutexLock lock(&mu_);
    connecting_ = false;
    if (client.ok()) {
      client_ = std::move(*client);
      client_ptr_.store(client_.get(), std::memory_order_release);
      return client_.get();
    }
    next_attempt_ = NextAttemptAfterFailureLocked(client.status());
    if (retrying_dead_parent_) report_to = parent_death_;
  }
  // On the caller's thread (this process has no client thread), and without
  // mu_: the host's callback may fork.
  if (report_to != nullptr) report_to->ReportOnce();
  return nullptr;
}

absl::Time Agent::NextAttemptAfterFailureLocked(const absl::Status& failure) {
  if (!parent_death_->Gone()) {
    connect_log_.Log(LogLevel::kWarning,
                     absl::StrCat("failed to start worker process client: ",
                                  failure.message()),
                     zen::Now());
    return zen::Now() + options_.client.reconnect_delay;
  }
  connect_log_.Log(
      LogLevel::kWarning,
      absl::StrCat("failed to start worker process client: parent process ",
                   parent_death_->parent_pid(), " exited (", failure.message(),
                   "); retrying less and less often"),
      zen::Now());
  retrying_dead_parent_ = true;
  return zen::Now() + parent_death_->NextRetryDelay();
}

}  // namespace zen
