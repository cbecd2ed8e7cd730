#include "agent/event_buffer.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/model/collector_event.h"
#include "base/mutex.h"
#include "base/thread_group.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

CollectorEvent Numbered(int n) {
  CollectorEvent event;
  event.type = CollectorEventType::kRoute;
  event.method = "GET";
  event.path = absl::StrCat("/", n);
  return event;
}

std::vector<std::string> Paths(const std::vector<CollectorEvent>& events) {
  std::vector<std::string> paths;
  for (const CollectorEvent& event : events) paths.push_back(event.path);
  return paths;
}

TEST(EventBufferTest, TakesTheOldestFirstInBatches) {
  EventBuffer buffer(10);
  for (int i = 1; i <= 5; ++i) buffer.Add(Numbered(i));
  EventBuffer::FlushTurn turn(&buffer);
  EXPECT_EQ(Paths(turn.Take(3)), (std::vector<std::string>{"/1", "/2", "/3"}));
  turn.Sent(3);
  EXPECT_EQ(Paths(turn.Take(3)), (std::vector<std::string>{"/4", "/5"}));
  turn.Sent(2);
  EXPECT_TRUE(turn.Take(3).empty());
  const EventBuffer::Counts counts = buffer.counts();
  EXPECT_EQ(counts.recorded, 5u);
  EXPECT_EQ(counts.sent, 5u);
  EXPECT_EQ(counts.dropped, 0u);
}

TEST(EventBufferTest, AtTheCapTheOldestGo) {
  EventBuffer buffer(3);
  for (int i = 1; i <= 5; ++i) buffer.Add(Numbered(i));
  EXPECT_EQ(buffer.size(), 3u);
  EXPECT_EQ(buffer.counts().dropped, 2u);
  EventBuffer::FlushTurn turn(&buffer);
  EXPECT_EQ(Paths(turn.Take(10)), (std::vector<std::string>{"/3", "/4", "/5"}));
}

TEST(EventBufferTest, ABatchPutBackGoesInFrontOfLaterEvents) {
  EventBuffer buffer(10);
  for (int i = 1; i <= 3; ++i) buffer.Add(Numbered(i));
  EventBuffer::FlushTurn turn(&buffer);
  std::vector<CollectorEvent> batch = turn.Take(2);
  buffer.Add(Numbered(4));  // Recorded while the batch was out.
  turn.PutBack(std::move(batch));
  EXPECT_EQ(Paths(turn.Take(10)),
            (std::vector<std::string>{"/1", "/2", "/3", "/4"}));
  EXPECT_EQ(buffer.counts().flush_failures, 1u);
}

TEST(EventBufferTest, APutBackBatchKeepsItsNewestWithinTheCap) {
  EventBuffer buffer(3);
  for (int i = 1; i <= 3; ++i) buffer.Add(Numbered(i));
  EventBuffer::FlushTurn turn(&buffer);
  std::vector<CollectorEvent> batch = turn.Take(3);
  buffer.Add(Numbered(4));
  buffer.Add(Numbered(5));
  turn.PutBack(std::move(batch));  // Room for one of three: "/3".
  EXPECT_EQ(Paths(turn.Take(10)), (std::vector<std::string>{"/3", "/4", "/5"}));
  EXPECT_EQ(buffer.counts().dropped, 2u);
}

TEST(EventBufferTest, ADroppedBatchIsCountedAndGone) {
  EventBuffer buffer(10);
  for (int i = 1; i <= 2; ++i) buffer.Add(Numbered(i));
  EventBuffer::FlushTurn turn(&buffer);
  turn.Drop(turn.Take(10).size());
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(buffer.counts().dropped, 2u);
}

// Two flushers and a recorder at once: what leaves, leaves in the order it
// was recorded, because a batch is taken and sent within one turn.
TEST(EventBufferTest, ConcurrentFlushesSendInRecordedOrder) {
  constexpr int kEvents = 3000;
  EventBuffer buffer(kEvents);
  Mutex mu;
  std::vector<std::string> wire;  // What "went out", in order.
  auto flush_until_all_sent = [&] {
    for (;;) {
      EventBuffer::FlushTurn turn(&buffer);
      std::vector<CollectorEvent> batch = turn.Take(7);
      {
        MutexLock lock(&mu);
        for (const CollectorEvent& event : batch) wire.push_back(event.path);
      }
      turn.Sent(batch.size());
      if (buffer.counts().sent == kEvents) return;
    }
  };
  ThreadGroup threads;
  threads.Spawn([&] {
    for (int i = 0; i < kEvents; ++i) buffer.Add(Numbered(i));
  });
  threads.Spawn(flush_until_all_sent);
  threads.Spawn(flush_until_all_sent);
  threads.JoinAll();
  ASSERT_EQ(wire.size(), static_cast<size_t>(kEvents));
  for (int i = 0; i < kEvents; ++i) ASSERT_EQ(wire[i], absl::StrCat("/", i));
}

}  // namespace
}  // namespace zen
