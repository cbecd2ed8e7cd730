// AgentTransport: where a worker's agent calls go.
//
// AgentClient asks the same questions whether its agent is a parent process
// across a socket or the AgentService of its own process (the parent's own
// client): same requests, same responses, same parsing on both paths. Only
// where a call goes differs, and that is this interface, with one
// implementation per place: SocketAgentTransport (agent/socket_transport.h)
// and InProcessAgentTransport (agent/in_process_transport.h). A rate-limit
// decision may not leave the worker at all (the shared-memory zone,
// agent/model/rate_limit_zone.h): AgentClient tries that before this interface.
#ifndef ZEN_AGENT_AGENT_TRANSPORT_H_
#define ZEN_AGENT_AGENT_TRANSPORT_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/zen/agent/worker_agent.pb.h"

namespace zen {

// Thread-safe: every method may be called from any thread, concurrently.
// A call after Stop() fails with kCancelled.
class AgentTransport {
 public:
  virtual ~AgentTransport() = default;

  // The five methods a worker calls, each within `timeout`. Errors are the
  // call's status (docs/errors.md): kDeadlineExceeded, kUnavailable when the
  // server cannot be reached, kCancelled after Stop().
  virtual absl::StatusOr<agent::UpdatedSettingsResponse> UpdatedSettings(
      const agent::UpdatedSettingsRequest& request, absl::Duration timeout) = 0;
  // Answered when the settings change or the request's wait runs out; a
  // transport with nothing to wait on (in process) answers kUnimplemented.
  virtual absl::StatusOr<agent::UpdatedSettingsResponse> WatchSettings(
      const agent::WatchSettingsRequest& request, absl::Duration timeout) = 0;
  virtual absl::StatusOr<agent::SendCollectorEventsResponse>
  SendCollectorEvents(const agent::SendCollectorEventsRequest& request,
                      absl::Duration timeout) = 0;
  virtual absl::StatusOr<agent::CalculateRateLimitsResponse>
  CalculateRateLimits(const agent::CalculateRateLimitsRequest& request,
                      absl::Duration timeout) = 0;
  virtual absl::StatusOr<agent::RecordAttackWaveResponse> RecordAttackWave(
      const agent::RecordAttackWaveRequest& request,
      absl::Duration timeout) = 0;

  // Whether the server answers a ping within `timeout`.
  virtual absl::Status Ping(absl::Duration timeout) = 0;
  // Sends the per-method call metrics gathered since the last report that
  // was answered (agent/call_metrics.h). OK when there is nothing to send.
  // Calls from one thread at a time.
  virtual absl::Status ReportMetrics(absl::Duration timeout) = 0;

  // Whether calls cross a socket to another process. Only then does a
  // worker keep a watch outstanding and look after its parent's death.
  virtual bool remote() const = 0;
  // Whether a call would reach the server now (always, in process).
  virtual bool connected() const = 0;

  // The parent is gone: the connection stops its own retries (each would
  // log) and calls fail at once until Reconnect() succeeds.
  virtual void Disconnect() = 0;
  // One attempt to reach the server again, on a new connection that serves
  // every later call. Fails with the connection's error.
  virtual absl::Status Reconnect() = 0;

  // Calls in flight and later fail (kCancelled). Idempotent.
  virtual void Stop() = 0;
  // In a forked child, on its only thread: drops what the parent process
  // had without touching it (sockets are closed, never shut down; threads
  // are not joined). Nothing may be called after it; the object is leaked
  // by design (destroying it would join threads the child does not have).
  virtual void AbandonAfterFork() = 0;
};

}  // namespace zen

#endif  // ZEN_AGENT_AGENT_TRANSPORT_H_
