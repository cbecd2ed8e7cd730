// The agent's call metrics: what a worker reports (report_metrics) and what
// the parent sums from its workers' reports.
#ifndef ZEN_AGENT_CALL_METRICS_H_
#define ZEN_AGENT_CALL_METRICS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/server_options.h"
#include "base/mutex.h"
#include "proto/zen/agent/worker_agent.pb.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/channel.h"
#include "rpc/method_metrics.h"

namespace zen {

// `counts` of `method` as a report carries them (trailing zero codes left
// out).
void MethodCountsToProto(absl::string_view method,
                         const rpc::MethodCounts& counts,
                         agent::MethodMetrics* out);

// The worker side: sends what its channels counted since the last report
// the parent answered. Thread-compatible: its owner serializes Report()
// (AgentClient calls it from Flush, under its flush lock). Fork: a forked
// child makes a new AgentClient, whose reporter and channels start at zero,
// so it never reports its parent's calls as its own.
class MetricsReporter {
 public:
  // Sends the difference between the channels' counts now and at the last
  // answered report, if there is one. OK when nothing was new, when sent, or
  // when the parent does not know report_metrics (a reference parent): then
  // never again. Else the call's error; the same calls go in the next
  // report (so a report whose answer was lost may be counted twice).
  absl::Status Report(const std::vector<rpc::Channel*>& channels,
                      agent::WorkerAgent::Stub stub, absl::Duration timeout);
  bool refused() const { return refused_; }

 private:
  rpc::MetricsSnapshot reported_;  // The channels' totals at the last report.
  bool refused_ = false;
};

// The parent side: the sum of every report its workers sent, by method.
// Bounded against a hostile worker: method names must be 1..64 bytes of
// [A-Za-z0-9_.:/-] (else they count under kOtherMethod, as methods past
// max_methods do); an entry whose arrays are too long, whose codes do not
// add up to its buckets, or that would overflow a sum is dropped and
// counted in rejected(). Sums only grow. Thread-safe.
class WorkerMetrics {
 public:
  static constexpr absl::string_view kOtherMethod = "_other";

  explicit WorkerMetrics(WorkerMetricsOptions options = {})
      : options_(options) {}

  void Add(const agent::ReportMetricsRequest& report) ABSL_LOCKS_EXCLUDED(mu_);
  rpc::MetricsSnapshot Sum() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t reports() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t rejected() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const WorkerMetricsOptions options_;
  mutable Mutex mu_;
  rpc::MetricsSnapshot sums_ ABSL_GUARDED_BY(mu_);
  uint64_t reports_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t rejected_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace zen

#endif  // ZEN_AGENT_CALL_METRICS_H_
