// AgentClient: buffered collector events and their batched flushes.
#include <algorithm>
#include <iterator>
#include <utility>

#include "agent/agent_client_impl.h"
#include "agent/event_conversion.h"

namespace zen {
namespace {

// Events per send_collector_events call, so a long backlog never makes a
// frame anywhere near the frame limit.
constexpr size_t kMaxEventsPerFlush = 5000;

}  // namespace

void AgentClient::Impl::RecordEvent(CollectorEvent event) {
  // The reference tracks no user-agent or IP-list event without keys, and
  // its parent could not read one.
  if ((event.type == CollectorEventType::kUserAgent ||
       event.type == CollectorEventType::kIpList) &&
      event.keys.empty()) {
    return;
  }
  MutexLock lock(&mu_);
  ++stats_.events_recorded;
  if (events_.size() >= options_.max_buffered_events) {
    events_.pop_front();
    ++stats_.events_dropped;
  }
  events_.push_back(std::move(event));
}

absl::Status AgentClient::Impl::Flush() {
  MutexLock flushing(&flush_mu_);  // One flush at a time keeps order.
  for (;;) {
    // Checked before each batch, so that a flush says the parent is gone
    // even with nothing buffered.
    if (parent_.exited()) {
      return parent_.ExitedError();
    }
    std::vector<CollectorEvent> batch;
    {
      MutexLock lock(&mu_);
      if (stopped_) return absl::CancelledError("agent client stopped");
      const size_t n = std::min(events_.size(), kMaxEventsPerFlush);
      if (n == 0) break;
      batch.assign(std::make_move_iterator(events_.begin()),
                   std::make_move_iterator(events_.begin() + n));
      events_.erase(events_.begin(), events_.begin() + n);
    }
    agent::SendCollectorEventsRequest request;
    absl::Status encoded = EncodeEventsJson(batch, request.mutable_events());
    if (!encoded.ok()) {
      // An event the host built badly (a schema that is not JSON) would
      // fail every retry: drop the batch, say why.
      MutexLock lock(&mu_);
      stats_.events_dropped += batch.size();
      return encoded;
    }
    absl::StatusOr<agent::SendCollectorEventsResponse> sent =
        transport_->SendCollectorEvents(request, options_.call_timeout);
    if (!sent.ok()) {
      {
        MutexLock lock(&mu_);
        ++stats_.flush_failures;
      }
      Requeue(std::move(batch));
      return parent_.NoteFailure(sent.status());
    }
    MutexLock lock(&mu_);
    stats_.events_sent += batch.size();
  }
  // The calls' metrics ride on the flush's schedule (agent/call_metrics.h).
  return parent_.NoteFailure(transport_->ReportMetrics(options_.call_timeout));
}

void AgentClient::Impl::Requeue(std::vector<CollectorEvent> batch) {
  MutexLock lock(&mu_);
  for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
    if (events_.size() >= options_.max_buffered_events) {
      ++stats_.events_dropped;  // The oldest are the ones to go.
      continue;
    }
    events_.push_front(std::move(*it));
  }
}

}  // namespace zen
