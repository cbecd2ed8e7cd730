// A compromised or buggy worker (one that holds the secret) sends route
// events whose paths are 1 MiB each: 120 of them in 6 send_collector_events
// frames of 20, over a real connection from a fork()ed process. What the
// parent keeps of them is bounded in bytes (CollectorTextBounds), so its
// RSS grows by far less than the 120 MiB of paths, and the next heartbeat
// document is small enough to be written at once (it was 446 MiB of growth
// and a 25 MiB heartbeat when only the number of routes was capped).
#include <malloc.h>

#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "agent/agent_server.h"
#include "agent/model/heartbeat.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "ipc/connector.h"
#include "ipc/socket_stream.h"
#include "testing/deadline.h"
#include "testing/forked_child.h"
#include "testing/resident_memory.h"
#include "testing/sanitizers.h"
#include "testing/test_secret.h"

namespace zen {
namespace {

constexpr int kFrames = 6;
constexpr int kEventsPerFrame = 20;
constexpr size_t kPathBytes = size_t{1} << 20;
// The sanitizers keep freed memory in a quarantine (256 MiB for ASan) and
// add shadow memory: RSS says nothing about what the parent keeps there.
constexpr bool kSanitized =
    testing::kAddressSanitizer || testing::kThreadSanitizer;
constexpr int64_t kMaxGrowthMiB = 64;
constexpr size_t kMaxHeartbeatBytes = size_t{4} << 20;

// This process's resident set in KiB; a failure to read it fails the test.
int64_t RssKiB() {
  absl::StatusOr<int64_t> kib = testing::ResidentKiB();
  EXPECT_TRUE(kib.ok()) << kib.status();
  return kib.value_or(0);
}

// The worker: one connection, six frames of twenty 1 MiB routes, each
// acknowledged before the next is sent.
absl::Status SendHugeRoutes(const ipc::Secret& secret, uint16_t port) {
  ipc::ConnectorOptions connect;
  connect.port = port;
  absl::StatusOr<std::unique_ptr<ipc::SocketStream>> stream =
      ipc::Connect(secret, connect, zen::Now() + absl::Seconds(10));
  if (!stream.ok()) return stream.status();
  const std::string filler(kPathBytes, 'r');
  for (int frame = 0; frame < kFrames; ++frame) {
    std::string request =
        absl::StrCat(R"([")", frame, R"(","send_collector_events",[[)");
    for (int i = 0; i < kEventsPerFrame; ++i) {
      absl::StrAppend(&request, i > 0 ? "," : "",
                      R"({"type":"track_route","route":{"method":"GET",)",
                      R"("path":"/)", frame, "-", i, "/", filler, R"("}})");
    }
    request.append("]],{}]");
    absl::string_view body = request;
    absl::Status written =
        (*stream)->Write({&body, 1}, zen::Now() + absl::Seconds(30));
    if (!written.ok()) return written;
    absl::StatusOr<ipc::Frame> ack =
        (*stream)->Read(zen::Now() + absl::Seconds(30));
    if (!ack.ok()) return ack.status();
    if (ack->body != absl::StrCat(R"([")", frame, R"(",null,null])")) {
      return absl::InternalError(absl::StrCat("ack: ", ack->body));
    }
  }
  return absl::OkStatus();
}

uint64_t RouteHits(Collector& collector) {
  uint64_t hits = 0;
  for (const CollectorStats::Route& route : collector.Snapshot().routes) {
    hits += route.hits;
  }
  return hits;
}

TEST(WorkerFloodMemoryTest, HugeRoutePathsLeaveTheParentSmall) {
  const ipc::Secret secret = testing::TestSecret();
  absl::StatusOr<std::unique_ptr<AgentServer>> server =
      AgentServer::Create(&secret);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Start().ok());
  const uint16_t port = (*server)->port();
  malloc_trim(0);
  const int64_t before = RssKiB();

  absl::StatusOr<testing::ForkedChild> worker = testing::ForkedChild::Start(
      [&secret, port] { return SendHugeRoutes(secret, port); });
  ASSERT_TRUE(worker.ok()) << worker.status();
  const testing::ChildOutcome outcome =
      worker->Wait(zen::Now() + absl::Seconds(120));
  ASSERT_TRUE(outcome.ok()) << outcome.ToString();
  // Acknowledged before folded: wait until every event is in.
  ASSERT_TRUE(testing::Eventually(
      [&] {
        return RouteHits((*server)->collector()) ==
               static_cast<uint64_t>(kFrames * kEventsPerFrame);
      },
      absl::Seconds(60)));

  const CollectorStats stats = (*server)->collector().Flush();
  EXPECT_EQ(stats.routes.size(),
            static_cast<size_t>(kFrames * kEventsPerFrame));
  uint64_t left_out = 0;
  absl::StatusOr<std::string> heartbeat =
      HeartbeatJson(stats, HeartbeatOptions(), &left_out);
  ASSERT_TRUE(heartbeat.ok()) << heartbeat.status();
  EXPECT_LE(heartbeat->size(), kMaxHeartbeatBytes);
  EXPECT_EQ(left_out, 0u);  // Bounded names all fit: nothing left out.
  const int64_t growth_mib = (RssKiB() - before) / 1024;
  RecordProperty("rss_growth_mib", static_cast<int>(growth_mib));
  RecordProperty("heartbeat_bytes", static_cast<int>(heartbeat->size()));
  std::printf("RSS growth %lld MiB, heartbeat %zu bytes\n",
              static_cast<long long>(growth_mib), heartbeat->size());
  if (!kSanitized) {
    EXPECT_LE(growth_mib, kMaxGrowthMiB);
  }
  (*server)->Stop();
}

}  // namespace
}  // namespace zen
