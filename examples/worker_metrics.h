// A worker's own counters: what it answered, how long its rate-limit
// questions took (in the shared zone, or to the parent), and when it applied
// each settings document.
#ifndef ZEN_EXAMPLES_WORKER_METRICS_H_
#define ZEN_EXAMPLES_WORKER_METRICS_H_

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "agent/model/runtime_settings.h"
#include "base/mutex.h"
#include "examples/latency_histogram.h"
#include "examples/worker_status.h"

namespace zen::examples {

enum class RequestOutcome { kAllowed, kBlocked, kRateLimited };

// Created by the parent before the Agent, because OnSettingsApplied is
// wired into AgentClientOptions::on_settings, which every worker inherits.
// The parent never records into it; each worker counts into its own copy,
// which starts out as pristine as the parent's. Thread-safe.
class WorkerMetrics {
 public:
  WorkerMetrics() = default;
  WorkerMetrics(const WorkerMetrics&) = delete;
  WorkerMetrics& operator=(const WorkerMetrics&) = delete;

  // One application request answered; `protected_by_agent` is false when it
  // was served without an agent client.
  void CountRequest(RequestOutcome outcome, bool protected_by_agent)
      ABSL_LOCKS_EXCLUDED(mu_);

  // One AgentClient::CalculateRateLimits call, how long it took, and
  // whether the shared zone decided it (else the parent, or a fallback).
  void RecordRateLimitCall(absl::Duration latency, bool in_zone)
      ABSL_LOCKS_EXCLUDED(mu_);

  // For AgentClientOptions::on_settings: notes the time at which each of
  // the two documents changed. A document changed when the new settings
  // hold a different parsed object for it than the previous ones did
  // (RuntimeSettings copies share unchanged parts).
  void OnSettingsApplied(std::shared_ptr<const RuntimeSettings> settings)
      ABSL_LOCKS_EXCLUDED(mu_);

  // This worker's fields of the status: pid, request counters, settings
  // application times and the latency histogram. The caller adds the agent
  // client's.
  WorkerStatus Snapshot() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable Mutex mu_;
  WorkerStatus counts_ ABSL_GUARDED_BY(mu_);
  // Held so that the addresses compared in OnSettingsApplied stay unique.
  std::shared_ptr<const RuntimeSettings> applied_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_WORKER_METRICS_H_
