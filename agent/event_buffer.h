// EventBuffer: the collector events a worker holds until a flush takes them
// to its parent, in the order they were recorded.
//
// Bounded: past `max_events` the oldest are dropped (and counted), so a
// parent that cannot take events costs a worker a fixed amount of memory. A
// flush takes batches through a FlushTurn, one turn at a time, so that two
// flushes (the schedule's and the host's Flush()) never send batches out of
// order; a batch that did not go out goes back in front, within the cap (the
// reference drops it).
//
// Thread-safe (the events' lock is fork-guarded). Owns the events it holds.
#ifndef ZEN_AGENT_EVENT_BUFFER_H_
#define ZEN_AGENT_EVENT_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "agent/model/collector_event.h"
#include "base/fork_guard.h"
#include "base/mutex.h"

namespace zen {

class EventBuffer {
 public:
  // What the buffer counted since it was made.
  struct Counts {
    uint64_t recorded = 0;        // Add() calls.
    uint64_t sent = 0;            // Taken and reported sent.
    uint64_t dropped = 0;         // Over the cap, or a batch never to go.
    uint64_t flush_failures = 0;  // Batches put back.
  };

  explicit EventBuffer(size_t max_events) : max_events_(max_events) {}
  EventBuffer(const EventBuffer&) = delete;
  EventBuffer& operator=(const EventBuffer&) = delete;

  // Buffers `event`; at the cap the oldest one goes to make room. Taken by
  // rvalue reference: a CollectorEvent is a dozen strings and a vector,
  // and one more move per event showed on the host's request path.
  void Add(CollectorEvent&& event) ABSL_LOCKS_EXCLUDED(mu_);
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);
  Counts counts() const ABSL_LOCKS_EXCLUDED(mu_);

  // The right to take batches out: made only while no other turn exists
  // (the constructor waits for the one before to end). Use from one thread.
  class FlushTurn {
   public:
    explicit FlushTurn(EventBuffer* buffer);
    ~FlushTurn();
    FlushTurn(const FlushTurn&) = delete;
    FlushTurn& operator=(const FlushTurn&) = delete;

    // Removes and returns up to `max` of the oldest events; empty when none
    // are left.
    std::vector<CollectorEvent> Take(size_t max);
    // A batch taken went out.
    void Sent(size_t n);
    // A batch taken did not go out: back in front, oldest first, as far as
    // the cap allows (the oldest of it go first). Counts a flush failure.
    void PutBack(std::vector<CollectorEvent> batch);
    // A batch taken can never go out (counted as dropped).
    void Drop(size_t n);

   private:
    EventBuffer* const buffer_;
  };

 private:
  const size_t max_events_;
  // Held by the FlushTurn that exists, across its calls to the parent, so
  // not fork-guarded (it would stall every fork()).
  Mutex turn_mu_;
  mutable Mutex mu_;
  std::deque<CollectorEvent> events_ ABSL_GUARDED_BY(mu_);
  Counts counts_ ABSL_GUARDED_BY(mu_);
  // A child forked while another thread adds finds the deque whole.
  ForkGuardRegistration fork_guard_{&mu_};
};

}  // namespace zen

#endif  // ZEN_AGENT_EVENT_BUFFER_H_
