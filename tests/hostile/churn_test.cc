// The churn attack, asserted for correctness only (docs/security.md, "Churn"):
// processes of another uid open loopback connections as fast as they are
// told, never speak and close each after 100 ms, while an honest client
// connects and calls `echo` every 50 ms. With the uid check (on by
// default) every honest attempt succeeds. Timing is not asserted; the
// figures in docs/security.md come from //tests/hostile:churn_bench.
//
// Tagged "exclusive": Bazel 4 runs such tests unsandboxed, where root can
// setresuid (its sandbox maps only uid 0); skipped where no uid switch is
// possible.
#include "tests/hostile/churn.h"

#include "gtest/gtest.h"
#include "testing/sanitizers.h"
#include "tests/hostile/live_server.h"

namespace zen::hostile {
namespace {

ChurnOptions OtherUidChurn() {
  ChurnOptions churn;
  churn.processes = 4;
  // Lighter under sanitizers, whose server is several times slower.
  churn.connections_per_second = testing::UnderSanitizer() ? 1000 : 3000;
  churn.hold = absl::Milliseconds(100);
  churn.other_uid = true;
  return churn;
}

void ExpectHonestClientUnharmed(const rpc::ServerOptions& options) {
  if (!CanSwitchUid()) GTEST_SKIP() << "cannot setresuid here";
  LiveServer server(options);
  absl::StatusOr<Churn> churn = Churn::Start(server.Target(), OtherUidChurn());
  ASSERT_TRUE(churn.ok()) << churn.status();
  absl::SleepFor(absl::Milliseconds(300));  // Let it reach its pace.
  const ProbeResult probe =
      ProbeHonestClient(server.secret(), server.Target(), absl::Seconds(3));
  const ChurnCounters counters = churn->counters();
  EXPECT_TRUE(churn->Stop().ok());
  const ipc::ListenerStats stats = server.server().listener_stats();
  std::printf(
      "honest: %s; churn opened %llu (failed %llu); listener refused "
      "%llu other-uid, %llu busy, %llu handshakes\n",
      probe.Summary().c_str(), static_cast<unsigned long long>(counters.opened),
      static_cast<unsigned long long>(counters.failed),
      static_cast<unsigned long long>(stats.refused_other_uid),
      static_cast<unsigned long long>(stats.refused_busy),
      static_cast<unsigned long long>(stats.handshakes));
  EXPECT_GT(counters.opened, 1000u);
  EXPECT_GT(stats.refused_other_uid, 1000u);
  EXPECT_EQ(probe.successes, probe.attempts) << probe.Summary();
  EXPECT_GE(probe.attempts, 40);
  EXPECT_TRUE(server.DescriptorsBackToBaseline().ok());
}

TEST(ChurnTest, TcpChurnOfAnotherUidLeavesEveryHonestConnectServed) {
  ExpectHonestClientUnharmed(HostileServerOptions());
}

TEST(ChurnTest, UnixChurnOfAnotherUidLeavesEveryHonestConnectServed) {
  rpc::ServerOptions options = HostileServerOptions();
  options.listener.transport = ipc::Transport::kUnix;
  ExpectHonestClientUnharmed(options);
}

}  // namespace
}  // namespace zen::hostile
