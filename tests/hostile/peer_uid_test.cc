// Peers of another uid, for real: forked children that setresuid(65534)
// and connect, over TCP (the kernel's sock_diag answer) and over the Unix
// transport (SO_PEERCRED). They are refused at accept, before a thread or a
// handshake slot, while same-uid clients are served.
//
// Bazel's sandbox maps only uid 0 into its user namespace, so setresuid
// fails there (EINVAL); this test is tagged "exclusive", which Bazel 4 runs
// unsandboxed, as the invoking user. Run by someone who cannot switch uid
// (not root), every test here is skipped with a message saying so.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "ipc/listener.h"
#include "ipc/socket_io.h"
#include "ipc/unix_socket.h"
#include "testing/deadline.h"
#include "testing/forked_child.h"
#include "tests/hostile/churn.h"
#include "tests/hostile/live_server.h"

namespace zen::hostile {
namespace {

using ::zen::testing::RunInChild;

using ::zen::testing::In;

rpc::ServerOptions UnixServerOptions() {
  rpc::ServerOptions options = HostileServerOptions();
  options.listener.transport = ipc::Transport::kUnix;
  return options;
}

// In a child: becomes the other uid, connects to `target` and expects the
// server to close (TCP: reset) without sending a byte, not even its
// challenge.
absl::Status ConnectAsOtherUidExpectingClose(
    const ipc::ConnectorOptions& target, bool keep_root_fsuid) {
  absl::Status became = BecomeOtherUid(keep_root_fsuid);
  if (!became.ok()) return became;
  absl::StatusOr<ipc::UniqueFd> fd =
      target.transport == ipc::Transport::kUnix
          ? ipc::ConnectUnix(target.unix_path, In(absl::Seconds(5)))
          : RawConnect(target.port);
  // A TCP refusal is a reset, which may reach us before connect(2) is
  // checked: that is the refusal too.
  if (!fd.ok() && fd.status().message().find("reset") != std::string::npos) {
    return absl::OkStatus();
  }
  if (!fd.ok()) return fd.status();
  absl::StatusOr<size_t> bytes =
      DrainUntilClosed(fd->get(), In(absl::Seconds(5)));
  if (!bytes.ok()) return bytes.status();
  if (*bytes != 0) {
    return absl::InternalError(
        absl::StrCat("server sent ", *bytes, " bytes to another uid"));
  }
  return absl::OkStatus();
}

class PeerUidTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CanSwitchUid()) {
      GTEST_SKIP() << "cannot setresuid(" << kOtherUid
                   << ") here (not root, or a user namespace mapping only "
                      "uid 0, as Bazel's sandbox): no other uid to test with";
    }
  }
};

TEST_F(PeerUidTest, TcpPeerOfAnotherUidIsClosedAtAcceptWithoutASlot) {
  LiveServer server;
  const ipc::ListenerStats before = server.server().listener_stats();
  auto outcome = RunInChild([&server] {
    return ConnectAsOtherUidExpectingClose(server.Target(),
                                           /*keep_root_fsuid=*/false);
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
  const ipc::ListenerStats after = server.server().listener_stats();
  EXPECT_EQ(after.refused_other_uid, before.refused_other_uid + 1);
  EXPECT_EQ(after.handshakes, before.handshakes) << "it took a handshake slot";
  EXPECT_EQ(after.peer_uid_unknown, before.peer_uid_unknown);
  EXPECT_TRUE(server.HonestCallIsPrompt().ok());
  EXPECT_EQ(server.server().listener_stats().handshakes, after.handshakes + 1);
  EXPECT_TRUE(server.DescriptorsBackToBaseline().ok());
}

TEST_F(PeerUidTest, WithTheCheckOffAnotherUidReachesTheHandshake) {
  // The control: the same child gets the server's challenge when the
  // listener does not look at uids, so the check is what refuses it.
  rpc::ServerOptions options = HostileServerOptions();
  options.listener.refuse_other_uid = false;
  LiveServer server(options);
  auto outcome = RunInChild([&server]() -> absl::Status {
    absl::Status became = BecomeOtherUid(false);
    if (!became.ok()) return became;
    absl::StatusOr<ipc::UniqueFd> fd = RawConnect(server.port());
    if (!fd.ok()) return fd.status();
    return ReadChallenge(fd->get(), In(absl::Seconds(5))).status();
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
  EXPECT_EQ(server.server().listener_stats().refused_other_uid, 0u);
}

TEST_F(PeerUidTest, HeldOtherUidConnectionsTakeNoHandshakeSlot) {
  // 200 silent connections of another uid held open (more than the 64
  // slots): none gets a slot, and a worker is served meanwhile.
  LiveServer server;
  int ready[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  int release[2];
  ASSERT_EQ(::pipe2(release, O_CLOEXEC), 0);
  const uint16_t port = server.port();
  auto holder = testing::ForkedChild::Start([&]() -> absl::Status {
    ::close(ready[0]);
    ::close(release[1]);
    absl::Status became = BecomeOtherUid(false);
    if (!became.ok()) return became;
    // The server may already have reset a connection when its connect(2)
    // is checked: such a connect "fails" with ECONNRESET, which is the
    // refusal itself, so errors other than that count.
    std::vector<ipc::UniqueFd> held;
    for (int i = 0; i < 200; ++i) {
      absl::StatusOr<ipc::UniqueFd> fd = RawConnect(port);
      if (fd.ok()) {
        held.push_back(std::move(*fd));
      } else if (fd.status().message().find("reset") == std::string::npos) {
        return fd.status();
      }
    }
    char byte = 'r';
    if (::write(ready[1], &byte, 1) != 1) return absl::InternalError("write");
    // Held until the parent has looked.
    if (::read(release[0], &byte, 1) < 0) return absl::InternalError("read");
    return absl::OkStatus();
  });
  ASSERT_TRUE(holder.ok());
  ::close(ready[1]);
  ::close(release[0]);
  char byte;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  const absl::Time until = In(absl::Seconds(5));
  while (server.server().listener_stats().refused_other_uid < 200 &&
         zen::Now() < until) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  const ipc::ListenerStats stats = server.server().listener_stats();
  EXPECT_EQ(stats.refused_other_uid, 200u);
  EXPECT_EQ(stats.pending_handshakes, 0u);
  EXPECT_EQ(stats.evicted, 0u);
  EXPECT_TRUE(server.HonestCallIsPrompt().ok());
  ASSERT_EQ(::write(release[1], "x", 1), 1);
  ::close(release[1]);
  ::close(ready[0]);
  auto outcome = holder->Wait(In(absl::Seconds(10)));
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
}

TEST_F(PeerUidTest, UnixDirectoryKeepsAnotherUidOut) {
  // The 0700 directory alone: another uid cannot even connect.
  LiveServer server(UnixServerOptions());
  auto outcome = RunInChild([&server]() -> absl::Status {
    absl::Status became = BecomeOtherUid(false);
    if (!became.ok()) return became;
    absl::StatusOr<ipc::UniqueFd> fd =
        ipc::ConnectUnix(server.Target().unix_path, In(absl::Seconds(5)));
    if (fd.ok()) return absl::InternalError("another uid connected");
    if (fd.status().message().find("Permission denied") == std::string::npos) {
      return fd.status();
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
  EXPECT_EQ(server.server().listener_stats().accepted, 1u);  // The baseline.
}

TEST_F(PeerUidTest, UnixPeerOfAnotherUidIsClosedAtAccept) {
  // One that passes the directory (filesystem uid 0, as if the directory
  // were open or the socket abstract) is refused by SO_PEERCRED.
  LiveServer server(UnixServerOptions());
  const ipc::ListenerStats before = server.server().listener_stats();
  auto outcome = RunInChild([&server] {
    return ConnectAsOtherUidExpectingClose(server.Target(),
                                           /*keep_root_fsuid=*/true);
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
  const ipc::ListenerStats after = server.server().listener_stats();
  EXPECT_EQ(after.refused_other_uid, before.refused_other_uid + 1);
  EXPECT_EQ(after.handshakes, before.handshakes);
  EXPECT_TRUE(server.HonestCallIsPrompt().ok());
  EXPECT_TRUE(server.DescriptorsBackToBaseline().ok());
}

}  // namespace
}  // namespace zen::hostile
