// Faults on the server's side: stopped and restarted with calls in flight,
// Stop() racing new connections, and 10,000 connect/disconnect cycles with
// descriptors and memory stable.
#include <atomic>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/clock.h"
#include "base/status_macros.h"
#include "gtest/gtest.h"
#include "ipc/connector.h"
#include "ipc/socket_io.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "testing/deadline.h"
#include "testing/forked_child.h"
#include "testing/sanitizers.h"
#include "testing/task_limit.h"
#include "testing/test_secret.h"
#include "tests/hostile/live_server.h"
#include "tools/rpc_cli/builtin_handlers.h"

namespace zen::faults {
namespace {

using ::zen::hostile::DescriptorCount;
using ::zen::hostile::ResidentBytes;
using ::zen::hostile::ThreadCount;

using ::zen::testing::In;

std::unique_ptr<rpc::Server> StartServer(const ipc::Secret* secret,
                                         uint16_t port) {
  rpc::ServerOptions options;
  options.listener.port = port;
  auto server = rpc::Server::Create(secret, options);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  rpc_cli::RegisterBuiltinHandlers(server->get());
  EXPECT_TRUE((*server)->Start().ok());
  return std::move(*server);
}

// Waits until this process holds `count` descriptors (or gives up).
bool DescriptorsReturnTo(size_t count, absl::Duration patience) {
  const absl::Time until = In(patience);
  while (DescriptorCount() != count && zen::Now() < until) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  return DescriptorCount() == count;
}

// The thread count to come back to. Starting one thread first lets a
// sanitizer runtime start its own background thread (TSan does so on the
// first pthread_create), which then stays for the life of the process.
size_t ThreadBaseline() {
  std::thread([] {}).join();
  return ThreadCount();
}

bool ThreadsReturnTo(size_t count, absl::Duration patience) {
  const absl::Time until = In(patience);
  while (ThreadCount() > count && zen::Now() < until) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  return ThreadCount() <= count;
}

// A thread that cannot be created (EAGAIN under a task limit) costs one
// connection or one relief, never the parent: a connection that gets no
// thread for its handshake is closed before its challenge and counted, a
// slow handler that gets no relief thread keeps its reading and still
// answers, the counters stay consistent, and Stop() still joins. Runs in a
// forked child, where thread creation is made to fail for real
// (testing/task_limit.h says how and why not RLIMIT_NPROC).
TEST(ServerFaultTest, NoThreadForAConnectionOrAReliefIsRefusedNotFatal) {
  testing::ChildOutcome outcome = testing::RunInChild([]() -> absl::Status {
    const ipc::Secret secret = testing::TestSecret();
    auto server = rpc::Server::Create(&secret);
    if (!server.ok()) return server.status();
    rpc_cli::RegisterBuiltinHandlers(server->get());
    ZEN_RETURN_IF_ERROR((*server)->Start());
    rpc::ChannelOptions options;
    options.connector.port = (*server)->port();
    options.reconnect = false;
    auto channel = rpc::Channel::Create(&secret, options);
    if (!channel.ok()) return channel.status();
    ZEN_RETURN_IF_ERROR((*channel)->Call("echo", "[1]", "{}").status());

    ZEN_RETURN_IF_ERROR(testing::LimitThreadsInThisChild());
    // A newcomer gets no handshake thread: closed without a challenge.
    auto raw = ipc::ConnectTcp(ipc::kLoopbackHost, (*server)->port(),
                               In(absl::Seconds(2)));
    if (!raw.ok()) return raw.status();
    uint8_t byte;
    absl::Status read = ipc::ReadExactly(
        raw->get(), absl::Span<uint8_t>(&byte, 1), In(absl::Seconds(5)));
    if (!absl::IsUnavailable(read)) {
      return absl::InternalError(
          absl::StrCat("newcomer not closed at once: ", read.ToString()));
    }
    // A slow handler gets no relief thread: it answers inline.
    auto slow = (*channel)->Call("slow", "[0.2]", "{}");
    if (!slow.ok()) return slow.status();
    ZEN_RETURN_IF_ERROR((*channel)->Call("echo", "[2]", "{}").status());
    const rpc::ServerStats stats = (*server)->stats();
    if (stats.refused_no_thread != 1 || stats.reliefs_refused < 1 ||
        stats.thread_start_failures < 2 || stats.connections != 1 ||
        stats.reliefs != 0) {
      return absl::InternalError(absl::StrCat(
          "counters: refused_no_thread ", stats.refused_no_thread,
          " reliefs_refused ", stats.reliefs_refused, " thread_start_failures ",
          stats.thread_start_failures, " connections ", stats.connections,
          " reliefs ", stats.reliefs));
    }

    ZEN_RETURN_IF_ERROR(testing::LiftThreadLimitInThisChild());
    ipc::ConnectorOptions connector;
    connector.port = (*server)->port();
    auto honest = ipc::Connect(secret, connector);
    if (!honest.ok()) return honest.status();
    (*channel)->Stop();
    const absl::Time start = zen::Now();
    (*server)->Stop();
    if (zen::Now() - start > absl::Seconds(2)) {
      return absl::InternalError("Stop() took over 2 s");
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
}

TEST(ServerFaultTest, StoppedAndRestartedWithCallsInFlight) {
  const size_t fds_before = DescriptorCount();
  const size_t threads_before = ThreadBaseline();
  const ipc::Secret secret = testing::TestSecret();
  std::unique_ptr<rpc::Server> first = StartServer(&secret, 0);
  ASSERT_NE(first, nullptr);
  const uint16_t port = first->port();
  rpc::ChannelOptions options;
  options.connector.port = port;
  options.reconnect_policy.initial_delay = absl::Milliseconds(20);
  auto channel = rpc::Channel::Create(&secret, options);
  ASSERT_TRUE(channel.ok());

  // Callers keep four slow calls in flight all along.
  constexpr absl::Duration kCallTimeout = absl::Seconds(3);
  std::atomic<bool> stop{false};
  std::atomic<bool> restarted{false};
  std::atomic<int> ok_after_restart{0};
  std::atomic<int> unexpected{0};
  std::atomic<int64_t> longest_ms{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 4; ++i) {
    callers.emplace_back([&] {
      while (!stop.load()) {
        rpc::CallOptions call = rpc::CallOptions::WithTimeout(kCallTimeout);
        call.wait_for_ready = true;
        const absl::Time start = zen::Now();
        auto result = (*channel)->Call("slow", "[0.2]", "{}", call);
        const int64_t ms = absl::ToInt64Milliseconds(zen::Now() - start);
        if (ms > longest_ms.load()) longest_ms = ms;
        if (result.ok()) {
          if (result->json() != R"("done")") ++unexpected;
          if (restarted.load()) ++ok_after_restart;
        } else if (!absl::IsUnavailable(result.status()) &&
                   !absl::IsCancelled(result.status()) &&
                   !absl::IsDeadlineExceeded(result.status())) {
          ++unexpected;
          std::fprintf(stderr, "call: %s\n",
                       result.status().ToString().c_str());
        }
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(500));
  const absl::Time stop_started = zen::Now();
  first->Stop();
  // Stop wakes and joins everything at once, in-flight handlers included.
  EXPECT_LT(zen::Now() - stop_started, absl::Seconds(2));
  first.reset();
  absl::SleepFor(absl::Milliseconds(200));
  std::unique_ptr<rpc::Server> second = StartServer(&secret, port);
  ASSERT_NE(second, nullptr);
  restarted = true;
  const absl::Time until = In(absl::Seconds(10));
  while (ok_after_restart.load() < 8 && zen::Now() < until) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  stop = true;
  for (std::thread& t : callers) t.join();
  EXPECT_GE(ok_after_restart.load(), 8) << "the channel never came back";
  EXPECT_EQ(unexpected.load(), 0);
  // No call outlived its deadline by more than scheduling noise.
  EXPECT_LT(longest_ms.load(),
            absl::ToInt64Milliseconds(kCallTimeout + absl::Seconds(1)));
  (*channel)->Stop();
  channel->reset();
  second->Stop();
  second.reset();
  EXPECT_TRUE(DescriptorsReturnTo(fds_before, absl::Seconds(5)))
      << DescriptorCount() << " descriptors, " << fds_before << " before";
  EXPECT_TRUE(ThreadsReturnTo(threads_before, absl::Seconds(5)));
}

TEST(ServerFaultTest, StopRacingNewConnectionsIsPromptAndLeaksNothing) {
  const size_t fds_before = DescriptorCount();
  const size_t threads_before = ThreadBaseline();
  const ipc::Secret secret = testing::TestSecret();
  std::mt19937 rng(7);
  for (int round = 0; round < 30; ++round) {
    std::unique_ptr<rpc::Server> server = StartServer(&secret, 0);
    ASSERT_NE(server, nullptr);
    ipc::ConnectorOptions connector;
    connector.port = server->port();
    connector.handshake_timeout = absl::Seconds(2);
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int i = 0; i < 3; ++i) {
      clients.emplace_back([&] {
        while (!stop.load()) {
          auto stream = ipc::Connect(secret, connector, In(absl::Seconds(2)));
          if (!stream.ok()) continue;  // Refused or cut: the race is on.
          const absl::string_view ping = R"(["p","ping",[],{}])";
          if ((*stream)->Write({&ping, 1}, In(absl::Seconds(2))).ok()) {
            (void)(*stream)->Read(In(absl::Seconds(2)));
          }
        }
      });
    }
    absl::SleepFor(
        absl::Milliseconds(std::uniform_int_distribution<>(0, 30)(rng)));
    const absl::Time start = zen::Now();
    server->Stop();
    EXPECT_LT(zen::Now() - start, absl::Seconds(2)) << "round " << round;
    stop = true;
    for (std::thread& t : clients) t.join();
    server.reset();
  }
  EXPECT_TRUE(DescriptorsReturnTo(fds_before, absl::Seconds(5)))
      << DescriptorCount() << " descriptors, " << fds_before << " before";
  EXPECT_TRUE(ThreadsReturnTo(threads_before, absl::Seconds(5)));
}

TEST(ServerFaultTest,
     TenThousandConnectDisconnectCyclesKeepDescriptorsAndMemory) {
  hostile::LiveServer server;
  constexpr int kCycles = 10000;
  size_t rss_at_warm = 0;
  const absl::Time start = zen::Now();
  for (int i = 0; i < kCycles; ++i) {
    absl::StatusOr<ipc::UniqueFd> fd =
        hostile::AuthenticatedConnect(server.port(), server.secret());
    ASSERT_TRUE(fd.ok()) << "cycle " << i << ": " << fd.status();
    // Every tenth connection also makes a call before hanging up.
    if (i % 10 == 0) {
      ASSERT_TRUE(
          hostile::SendBytes(fd->get(), hostile::Frame(R"(["c","ping",[],{}])"))
              .ok());
      absl::StatusOr<std::string> answer =
          hostile::ReadFrame(fd->get(), In(absl::Seconds(5)));
      ASSERT_TRUE(answer.ok()) << "cycle " << i << ": " << answer.status();
      ASSERT_EQ(*answer, R"(["c",null,null])");
    }
    fd->Reset();
    if (i == kCycles / 10) {
      // Warm: thread stacks, OpenSSL and allocator caches are in place.
      ASSERT_TRUE(server.DescriptorsBackToBaseline().ok());
      rss_at_warm = ResidentBytes();
    }
  }
  const absl::Duration took = zen::Now() - start;
  absl::Status fds = server.DescriptorsBackToBaseline();
  EXPECT_TRUE(fds.ok()) << fds;
  const size_t rss_at_end = ResidentBytes();
  const size_t growth = rss_at_end > rss_at_warm ? rss_at_end - rss_at_warm : 0;
  std::printf("%d cycles in %s; RSS %zu KiB at cycle %d, %zu KiB at the end\n",
              kCycles, absl::FormatDuration(took).c_str(), rss_at_warm >> 10,
              kCycles / 10, rss_at_end >> 10);
  // Sanitizer runtimes keep freed memory in quarantine and per-thread state
  // (each connection is a thread), so their RSS grows by design; their own
  // leak checks cover that build.
  if (!testing::UnderSanitizer()) {
    EXPECT_LT(growth, size_t{8} << 20) << "RSS grew by " << (growth >> 10)
                                       << " KiB over " << kCycles << " cycles";
  }
  absl::Status honest = server.HonestCallIsPrompt();
  EXPECT_TRUE(honest.ok()) << honest;
}

}  // namespace
}  // namespace zen::faults
