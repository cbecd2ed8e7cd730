#include "examples/worker_metrics.h"

#include <unistd.h>

#include <utility>

#include "absl/time/clock.h"
#include "base/clock.h"

namespace zen::examples {

void WorkerMetrics::CountRequest(RequestOutcome outcome,
                                 bool protected_by_agent) {
  MutexLock lock(&mu_);
  ++counts_.requests;
  switch (outcome) {
    case RequestOutcome::kAllowed:
      ++counts_.allowed;
      break;
    case RequestOutcome::kBlocked:
      ++counts_.blocked;
      break;
    case RequestOutcome::kRateLimited:
      ++counts_.rate_limited;
      break;
  }
  if (!protected_by_agent) ++counts_.unprotected;
}

void WorkerMetrics::RecordRateLimitCall(absl::Duration latency, bool in_zone) {
  MutexLock lock(&mu_);
  (in_zone ? counts_.zone_latency : counts_.rate_limit_latency).Record(latency);
}

void WorkerMetrics::OnSettingsApplied(
    std::shared_ptr<const RuntimeSettings> settings) {
  const int64_t now_us = absl::ToUnixMicros(zen::Now());
  MutexLock lock(&mu_);
  if (applied_ == nullptr || &applied_->config() != &settings->config()) {
    counts_.config_applied_at_us = now_us;
  }
  if (applied_ == nullptr ||
      &applied_->firewall_lists() != &settings->firewall_lists()) {
    counts_.firewall_lists_applied_at_us = now_us;
  }
  applied_ = std::move(settings);
}

WorkerStatus WorkerMetrics::Snapshot() const {
  MutexLock lock(&mu_);
  WorkerStatus status = counts_;
  status.pid = ::getpid();
  return status;
}

}  // namespace zen::examples
