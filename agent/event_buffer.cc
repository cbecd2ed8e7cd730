#include "agent/event_buffer.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace zen {

void EventBuffer::Add(CollectorEvent&& event) {
  MutexLock lock(&mu_);
  ++counts_.recorded;
  if (events_.size() >= max_events_) {
    events_.pop_front();
    ++counts_.dropped;
  }
  events_.push_back(std::move(event));
}

size_t EventBuffer::size() const {
  MutexLock lock(&mu_);
  return events_.size();
}

EventBuffer::Counts EventBuffer::counts() const {
  MutexLock lock(&mu_);
  return counts_;
}

// The turn's lock spans the object's life, which the analysis cannot follow
// across a constructor and a destructor.
EventBuffer::FlushTurn::FlushTurn(EventBuffer* buffer)
    ABSL_NO_THREAD_SAFETY_ANALYSIS : buffer_(buffer) {
  buffer_->turn_mu_.Lock();
}

EventBuffer::FlushTurn::~FlushTurn() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  buffer_->turn_mu_.Unlock();
}

std::vector<CollectorEvent> EventBuffer::FlushTurn::Take(size_t max) {
  MutexLock lock(&buffer_->mu_);
  std::deque<CollectorEvent>& events = buffer_->events_;
  const size_t n = std::min(events.size(), max);
  std::vector<CollectorEvent> batch(
      std::make_move_iterator(events.begin()),
      std::make_move_iterator(events.begin() + n));
  events.erase(events.begin(), events.begin() + n);
  return batch;
}

void EventBuffer::FlushTurn::Sent(size_t n) {
  MutexLock lock(&buffer_->mu_);
  buffer_->counts_.sent += n;
}

void EventBuffer::FlushTurn::PutBack(std::vector<CollectorEvent> batch) {
  MutexLock lock(&buffer_->mu_);
  ++buffer_->counts_.flush_failures;
  for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
    if (buffer_->events_.size() >= buffer_->max_events_) {
      ++buffer_->counts_.dropped;  // The oldest are the ones to go.
      continue;
    }
    buffer_->events_.push_front(std::move(*it));
  }
}

void EventBuffer::FlushTurn::Drop(size_t n) {
  MutexLock lock(&buffer_->mu_);
  buffer_->counts_.dropped += n;
}

}  // namespace zen
