// AgentClient: buffered collector events and their batched flushes.
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
  events_.Add(std::move(event));
}

absl::Status AgentClient::Impl::Flush() {
  EventBuffer::FlushTurn turn(&events_);  // One flush at a time keeps order.
  for (;;) {
    // Checked before each batch, so that a flush says the parent is gone
    // even with nothing buffered.
    if (parent_.exited()) return parent_.ExitedError();
    if (stop_.stopped()) return absl::CancelledError("agent client stopped");
    std::vector<CollectorEvent> batch = turn.Take(kMaxEventsPerFlush);
    if (batch.empty()) break;
    agent::SendCollectorEventsRequest request;
    absl::Status encoded = EncodeEventsJson(batch, request.mutable_events());
    if (!encoded.ok()) {
      // An event the host built badly (a schema that is not JSON) would
      // fail every retry: drop the batch, say why.
      turn.Drop(batch.size());
      return encoded;
    }
    absl::StatusOr<agent::SendCollectorEventsResponse> sent =
        transport_->SendCollectorEvents(request, options_.call_timeout);
    if (!sent.ok()) {
      turn.PutBack(std::move(batch));
      return parent_.NoteFailure(sent.status());
    }
    turn.Sent(batch.size());
  }
  // The calls' metrics ride on the flush's schedule (agent/call_metrics.h).
  return parent_.NoteFailure(transport_->ReportMetrics(options_.call_timeout));
}

}  // namespace zen
