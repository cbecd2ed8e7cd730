// Faults on the children's side: a child killed with SIGKILL mid-handshake,
// mid-frame, mid-call and while the server writes to it; and children (and
// grandchildren) forked at random moments while the parent serves, with no
// deadlock, no corrupted frame and no event lost or counted twice.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/agent.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "ipc/handshake.h"
#include "testing/deadline.h"
#include "testing/forked_child.h"
#include "testing/sanitizers.h"
#include "tests/hostile/live_server.h"

namespace zen::faults {
namespace {

using ::zen::hostile::LiveServer;
using ::zen::testing::ChildOutcome;
using ::zen::testing::ForkedChild;

using ::zen::testing::In;

// Runs `act` in a child that then says so and waits to be killed; kills it
// with SIGKILL at that point and reaps it. Fails if the child never got
// there.
void KillChildAfter(
    const std::string& name, std::function<absl::Status()> act,
    std::function<void()> before_kill = [] {}) {
  int ready[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  absl::StatusOr<ForkedChild> child =
      ForkedChild::Start([&act, ready]() -> absl::Status {
        ::close(ready[0]);
        absl::Status status = act();
        if (!status.ok()) return status;
        const char byte = 'r';
        if (::write(ready[1], &byte, 1) != 1)
          return absl::InternalError("pipe");
        for (;;) ::pause();  // Until SIGKILL.
      });
  ::close(ready[1]);
  ASSERT_TRUE(child.ok());
  char byte;
  const bool got_there = ::read(ready[0], &byte, 1) == 1;
  ::close(ready[0]);
  if (got_there) before_kill();
  child->Kill(SIGKILL);
  ChildOutcome outcome = child->Wait(In(absl::Seconds(10)));
  ASSERT_TRUE(got_there) << name << ": " << outcome.ToString();
  EXPECT_EQ(outcome.term_signal, SIGKILL) << name;
}

void ExpectHealthy(LiveServer& server) {
  absl::Status honest = server.HonestCallIsPrompt();
  EXPECT_TRUE(honest.ok()) << honest;
  absl::Status fds = server.DescriptorsBackToBaseline();
  EXPECT_TRUE(fds.ok()) << fds;
}

TEST(ChildFaultTest, ChildKilledMidHandshake) {
  LiveServer server;
  for (size_t sent : {size_t{0}, size_t{1}, size_t{31}, size_t{63}}) {
    KillChildAfter(absl::StrCat(sent, " reply bytes"), [&]() -> absl::Status {
      auto fd = hostile::RawConnect(server.port());
      if (!fd.ok()) return fd.status();
      auto challenge = hostile::ReadChallenge(fd->get(), In(absl::Seconds(5)));
      if (!challenge.ok()) return challenge.status();
      const std::string reply =
          hostile::Proof(server.secret(), ipc::kClientAuthLabel, *challenge) +
          std::string(ipc::kChallengeSize, 'c');
      const int raw = fd->Release();  // Stays open until the kill.
      return hostile::SendBytes(raw, reply.substr(0, sent));
    });
  }
  ExpectHealthy(server);
}

TEST(ChildFaultTest, ChildKilledMidFrame) {
  LiveServer server;
  for (const std::string& partial :
       {hostile::FrameHeader(1000).substr(0, 2), hostile::FrameHeader(1000),
        hostile::FrameHeader(1000) + R"(["a","echo",[")"}) {
    KillChildAfter("partial frame", [&]() -> absl::Status {
      auto fd = hostile::AuthenticatedConnect(server.port(), server.secret());
      if (!fd.ok()) return fd.status();
      const int raw = fd->Release();
      return hostile::SendBytes(raw, partial);
    });
  }
  ExpectHealthy(server);
}

TEST(ChildFaultTest, ChildKilledMidCall) {
  LiveServer server;
  const uint64_t calls_before = server.server().stats().calls;
  KillChildAfter(
      "slow call",
      [&]() -> absl::Status {
        auto fd = hostile::AuthenticatedConnect(server.port(), server.secret());
        if (!fd.ok()) return fd.status();
        const int raw = fd->Release();
        return hostile::SendBytes(raw,
                                  hostile::Frame(R"(["k","slow",[0.5],{}])"));
      },
      [&] {
        // Killed only once the server is running the call.
        const absl::Time until = In(absl::Seconds(5));
        while (server.server().stats().calls == calls_before &&
               zen::Now() < until) {
          absl::SleepFor(absl::Milliseconds(1));
        }
      });
  EXPECT_GT(server.server().stats().calls, calls_before);
  ExpectHealthy(server);
}

TEST(ChildFaultTest, ChildKilledWhileTheServerWritesToIt) {
  LiveServer server;
  KillChildAfter("big answers unread", [&]() -> absl::Status {
    auto fd = hostile::AuthenticatedConnect(server.port(), server.secret());
    if (!fd.ok()) return fd.status();
    const int raw = fd->Release();
    std::string requests;
    for (int i = 0; i < 8; ++i) {
      requests +=
          hostile::Frame(absl::StrCat(R"(["b)", i, R"(","big",[4194304],{}])"));
    }
    absl::Status sent = hostile::SendBytes(raw, requests);
    absl::SleepFor(absl::Milliseconds(100));  // The server is writing.
    return sent;
  });
  ExpectHealthy(server);
}

// Counters shared by every process of a test (a MAP_SHARED page survives
// fork), one slot per child.
struct SharedCounters {
  static constexpr int kSlots = 128;
  std::atomic<int64_t> acked[kSlots];
};

SharedCounters* MapCounters() {
  void* p = ::mmap(nullptr, sizeof(SharedCounters), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  auto* counters = new (p) SharedCounters;
  for (auto& c : counters->acked) c.store(0);
  return counters;
}

// In a child of `agent`: records `events` request events and flushes them;
// counts them in `slot` once the parent acknowledged.
absl::Status SendEvents(Agent* agent, SharedCounters* counters, int slot,
                        int events) {
  AgentClient* client = agent->client();
  for (int attempt = 0; client == nullptr && attempt < 100; ++attempt) {
    absl::SleepFor(absl::Milliseconds(20));
    client = agent->client();
  }
  if (client == nullptr) return absl::UnavailableError("no agent client");
  for (int i = 0; i < events; ++i) {
    CollectorEvent event;
    event.type = CollectorEventType::kRequest;
    client->RecordEvent(event);
  }
  absl::Status flushed = client->Flush();
  if (!flushed.ok()) return flushed;
  counters->acked[slot].fetch_add(events);
  return absl::OkStatus();
}

TEST(ChildFaultTest, ChildrenForkedAtRandomMomentsUnderLoadLoseNothing) {
  // GCC 12's ASan and TSan runtimes are not fork-safe: a child forked while
  // another thread of the parent is inside their allocator (which this test
  // does on purpose) can inherit its lock held and hang. glibc's malloc and
  // the library's own locks are fork-safe, which the default build checks.
  if (testing::UnderSanitizer()) {
    GTEST_SKIP() << "sanitizer runtimes are not fork-safe under load";
  }
  AgentOptions options;
  options.client.flush_interval = absl::Hours(1);  // Flush explicitly.
  options.client.polling_interval = absl::Milliseconds(50);
  options.client.polling_jitter = absl::ZeroDuration();
  options.client.reconnect_delay = absl::Milliseconds(20);
  auto agent = Agent::Create(options);
  ASSERT_TRUE(agent.ok()) << agent.status();
  SharedCounters* counters = MapCounters();
  ASSERT_NE(counters, nullptr);
  Agent* a = agent->get();

  // Load: workers flushing events as fast as they can, and the parent
  // changing settings that every worker polls.
  std::atomic<bool> stop_load{false};
  std::thread settings_load([&] {
    for (int i = 0; !stop_load.load(); ++i) {
      (void)a->server()->UpdateConfig(
          absl::StrCat(R"({"configUpdatedAt":)", i, "}"));
      absl::SleepFor(absl::Milliseconds(2));
    }
  });
  std::vector<ForkedChild> children;
  for (int w = 0; w < 3; ++w) {
    auto worker = ForkedChild::Start([a, counters, w]() -> absl::Status {
      const absl::Time until = zen::Now() + absl::Seconds(3);
      while (zen::Now() < until) {
        absl::Status s = SendEvents(a, counters, w, 25);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(worker.ok());
    children.push_back(std::move(*worker));
  }
  // New workers at random moments, half of them forking a grandchild of
  // their own (which connects on its own).
  std::mt19937 rng(42);
  for (int i = 0; i < 24; ++i) {
    absl::SleepFor(
        absl::Milliseconds(std::uniform_int_distribution<>(0, 60)(rng)));
    const bool grandchild = i % 2 == 0;
    const int slot = 8 + i;
    auto child = ForkedChild::Start([=]() -> absl::Status {
      absl::Status s = SendEvents(a, counters, slot, 10);
      if (!s.ok()) return s;
      if (!grandchild) return absl::OkStatus();
      auto g = ForkedChild::Start([=]() -> absl::Status {
        return SendEvents(a, counters, slot + 64, 10);
      });
      if (!g.ok()) return g.status();
      ChildOutcome outcome = g->Wait(zen::Now() + absl::Seconds(20));
      if (!outcome.ok()) {
        return absl::InternalError(
            absl::StrCat("grandchild: ", outcome.ToString()));
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(child.ok());
    children.push_back(std::move(*child));
  }
  // No deadlock: everyone finishes (a stuck child is killed at the deadline
  // and reported).
  for (ForkedChild& child : children) {
    ChildOutcome outcome = child.Wait(In(absl::Seconds(30)));
    EXPECT_TRUE(outcome.ok()) << outcome.ToString();
  }
  stop_load = true;
  settings_load.join();

  int64_t acked = 0;
  for (auto& c : counters->acked) acked += c.load();
  EXPECT_GT(acked, 24 * 10);
  // Every acknowledged event is counted exactly once (folding follows the
  // acknowledgement, so wait for it).
  uint64_t counted = 0;
  const absl::Time until = In(absl::Seconds(10));
  do {
    counted = a->server()->collector().Snapshot().requests;
    if (counted == static_cast<uint64_t>(acked)) break;
    absl::SleepFor(absl::Milliseconds(10));
  } while (zen::Now() < until);
  EXPECT_EQ(counted, static_cast<uint64_t>(acked));
  // No corrupted frame reached the server.
  const rpc::ServerStats stats = a->server()->server_stats();
  EXPECT_EQ(stats.dropped_non_json, 0u);
  EXPECT_EQ(stats.malformed_ignored, 0u);
  ::munmap(counters, sizeof(SharedCounters));
}

}  // namespace
}  // namespace zen::faults
