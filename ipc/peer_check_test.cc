// The listener's peer checks (refuse_other_uid, require_descendant) and the
// Unix-domain transport, over real sockets with clients in fork()ed
// children. Everything here runs as one uid; refusing a real other uid
// needs setresuid, which Bazel's sandbox forbids, so that lives in
// tests/hostile:peer_uid_test (run unsandboxed).
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mutex.h"
#include "gtest/gtest.h"
#include "ipc/connector.h"
#include "ipc/listener.h"
#include "ipc/peer_credentials.h"
#include "ipc/socket_io.h"
#include "testing/deadline.h"
#include "testing/descriptors.h"
#include "testing/echo_server.h"
#include "testing/forked_child.h"
#include "testing/test_secret.h"

// LeakSanitizer checks at exit; a forked child here that exits normally
// (to run the atexit handlers on purpose) has leaked what AbandonAfterFork
// leaks by design and never joined the parent's threads. Leaks are the
// parent's to check.
static const pid_t kTestPid = ::getpid();
extern "C" int __lsan_is_turned_off() { return ::getpid() != kTestPid; }

namespace zen::ipc {
namespace {

using ::zen::testing::EchoRoundTrip;
using ::zen::testing::EchoServer;
using ::zen::testing::ForkedChild;
using ::zen::testing::RunInChild;
using ::zen::testing::TestSecret;

using ::zen::testing::In;

ListenerOptions UnixOptions() {
  ListenerOptions options;
  options.transport = Transport::kUnix;
  return options;
}

// Connects, authenticates and echoes one frame.
absl::Status HonestRoundTrip(const Secret& secret,
                             const ConnectorOptions& options) {
  auto stream = Connect(secret, options, In(absl::Seconds(5)));
  if (!stream.ok()) return stream.status();
  return EchoRoundTrip(**stream, "[\"id\",\"echo\",[],{}]");
}

// Waits until `done` holds or 5 s pass.
template <typename Predicate>
bool Eventually(Predicate done) {
  const absl::Time deadline = In(absl::Seconds(5));
  while (!done()) {
    if (zen::Now() > deadline) return false;
    zen::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

TEST(TcpPeerUidQueryTest, NamesTheUidOwningTheClientSocket) {
  absl::StatusOr<UniqueFd> listen = ListenTcp(kLoopbackHost, 0, 8);
  ASSERT_TRUE(listen.ok());
  const uint16_t port = *LocalPort(listen->get());
  absl::StatusOr<UniqueFd> client =
      ConnectTcp(kLoopbackHost, port, In(absl::Seconds(2)));
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<UniqueFd> accepted =
      Accept(listen->get(), In(absl::Seconds(2)));
  ASSERT_TRUE(accepted.ok());
  TcpPeerUidQuery query;
  absl::StatusOr<uid_t> uid = query.PeerUid(accepted->get());
  ASSERT_TRUE(uid.ok()) << uid.status();
  EXPECT_EQ(*uid, ::geteuid());
  // Reused socket, second query.
  uid = query.PeerUid(accepted->get());
  ASSERT_TRUE(uid.ok()) << uid.status();
  EXPECT_EQ(*uid, ::geteuid());
}

TEST(PeerCheckTest, TcpPeerOfAnotherUidIsClosedBeforeAnyHandshakeByte) {
  std::atomic<bool> stranger{false};
  ListenerOptions options;
  options.peer_uid_lookup = [&stranger](int) -> absl::StatusOr<uid_t> {
    return stranger.load() ? 65534 : ::geteuid();
  };
  EchoServer server(std::move(options));
  stranger = true;
  absl::StatusOr<UniqueFd> fd =
      ConnectTcp(kLoopbackHost, server.listener->port(), In(absl::Seconds(2)));
  if (fd.ok()) {
    uint8_t byte;
    // Reset without the server challenge: not one byte.
    absl::StatusOr<size_t> got =
        ReadSome(fd->get(), absl::MakeSpan(&byte, 1), In(absl::Seconds(5)));
    EXPECT_TRUE(absl::IsUnavailable(got.status())) << got.status();
  } else {
    // The reset came before connect(2) was checked.
    EXPECT_NE(fd.status().message().find("reset"), absl::string_view::npos)
        << fd.status();
  }
  ASSERT_TRUE(Eventually(
      [&] { return server.listener->stats().refused_other_uid == 1; }));
  ListenerStats stats = server.listener->stats();
  EXPECT_EQ(stats.handshakes, 0u);
  EXPECT_EQ(stats.accepted, 1u);
  stranger = false;
  EXPECT_TRUE(HonestRoundTrip(server.secret, server.Client()).ok());
  stats = server.listener->stats();
  EXPECT_EQ(stats.handshakes, 1u);
  EXPECT_EQ(stats.refused_other_uid, 1u);
}

TEST(PeerCheckTest, RealTcpQueryAdmitsTheSameUid) {
  EchoServer server(ListenerOptions{});
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(HonestRoundTrip(server.secret, server.Client()).ok());
  }
  const ListenerStats stats = server.listener->stats();
  EXPECT_EQ(stats.refused_other_uid, 0u);
  EXPECT_EQ(stats.peer_uid_unknown, 0u) << "netlink query failed here";
  EXPECT_EQ(stats.handshakes, 3u);
}

TEST(PeerCheckTest, FailedUidQueryAdmitsUncheckedLogsOnceAndCounts) {
  Mutex mu;
  std::vector<std::string> lines;
  LogSink previous = SetLogSink([&](LogLevel, absl::string_view message) {
    MutexLock lock(&mu);
    lines.emplace_back(message);
  });
  {
    ListenerOptions options;
    options.peer_uid_lookup = [](int) -> absl::StatusOr<uid_t> {
      return absl::UnavailableError("peer uid: netlink socket: injected");
    };
    EchoServer server(std::move(options));
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(HonestRoundTrip(server.secret, server.Client()).ok());
    }
    const ListenerStats stats = server.listener->stats();
    EXPECT_EQ(stats.peer_uid_unknown, 3u);
    EXPECT_EQ(stats.handshakes, 3u);
    EXPECT_EQ(stats.refused_other_uid, 0u);
  }
  SetLogSink(std::move(previous));
  MutexLock lock(&mu);
  int about_uid = 0;
  for (const std::string& line : lines) {
    about_uid +=
        line.find("cannot learn a TCP peer's uid") != std::string::npos;
  }
  EXPECT_EQ(about_uid, 1);
}

TEST(PeerCheckTest, CheckOffNeverAsks) {
  std::atomic<int> asked{0};
  ListenerOptions options;
  options.refuse_other_uid = false;
  options.peer_uid_lookup = [&asked](int) -> absl::StatusOr<uid_t> {
    asked.fetch_add(1);
    return 65534;
  };
  EchoServer server(std::move(options));
  EXPECT_TRUE(HonestRoundTrip(server.secret, server.Client()).ok());
  EXPECT_EQ(asked.load(), 0);
}

TEST(PeerCheckTest, RequireDescendantNeedsUnix) {
  Secret secret = TestSecret();
  ListenerOptions options;
  options.require_descendant = true;
  auto created = Listener::Create(&secret, options, nullptr);
  EXPECT_TRUE(absl::IsInvalidArgument(created.status())) << created.status();
}

TEST(UnixTransportTest, ForkedChildrenAuthenticateAndExchangeFrames) {
  EchoServer server(UnixOptions());
  ASSERT_FALSE(server.listener->unix_path().empty());
  EXPECT_EQ(server.listener->port(), 0);
  auto children = testing::StartTogether(3, [&server](int) {
    return HonestRoundTrip(server.secret, server.Client());
  });
  ASSERT_TRUE(children.ok());
  for (ForkedChild& child : *children) {
    auto outcome = child.Wait(In(absl::Seconds(20)));
    EXPECT_TRUE(outcome.ok()) << outcome.ToString();
  }
  EXPECT_EQ(server.listener->stats().handshakes, 3u);
}

TEST(UnixTransportTest, WrongSecretIsRejectedAsOnTcp) {
  EchoServer server(UnixOptions());
  Secret wrong = TestSecret(0x11);
  auto stream = Connect(wrong, server.Client(), In(absl::Seconds(5)));
  EXPECT_TRUE(absl::IsUnavailable(stream.status())) << stream.status();
}

TEST(UnixTransportTest, DirectoryIsPrivateAndRemovedOnStop) {
  EchoServer server(UnixOptions());
  const std::string path = server.listener->unix_path();
  const std::string dir = path.substr(0, path.rfind('/'));
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  server.listener->Stop();
  EXPECT_NE(::stat(path.c_str(), &st), 0);
  EXPECT_NE(::stat(dir.c_str(), &st), 0);
}

TEST(UnixTransportTest, ForkedChildExitNeverRemovesTheParentsSocket) {
  EchoServer server(UnixOptions());
  const std::string path = server.listener->unix_path();
  // A child that abandons its copy and exits normally, so the atexit
  // handler that removes the socket at the parent's exit runs in it too.
  auto exits = RunInChild([&server]() -> absl::Status {
    server.listener->AbandonAfterFork();
    server.listener.release();
    std::exit(0);
  });
  EXPECT_TRUE(exits.ok()) << exits.ToString();
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << "a child removed " << path;
  EXPECT_TRUE(HonestRoundTrip(server.secret, server.Client()).ok());
}

TEST(UnixTransportTest, ExecedChildInheritsNoDescriptor) {
  const std::set<int> before = testing::OpenFds();
  EchoServer server(UnixOptions());
  auto stream = Connect(server.secret, server.Client(), In(absl::Seconds(5)));
  ASSERT_TRUE(stream.ok()) << stream.status();
  std::set<int> ours;
  for (int fd : testing::OpenFds()) {
    if (before.count(fd) == 0) ours.insert(fd);
  }
  ASSERT_GE(ours.size(), 3u);  // Listening socket, eventfd, our end.
  absl::StatusOr<std::set<int>> after_exec = testing::FdsSurvivingExec();
  ASSERT_TRUE(after_exec.ok()) << after_exec.status();
  for (int fd : ours) {
    EXPECT_EQ(after_exec->count(fd), 0u) << "fd " << fd << " survived exec";
  }
}

TEST(UnixTransportTest, DescendantsPassRequireDescendant) {
  ListenerOptions options = UnixOptions();
  options.require_descendant = true;
  EchoServer server(std::move(options));
  // A child, and a grandchild whose parent waits for it.
  auto child = RunInChild(
      [&server] { return HonestRoundTrip(server.secret, server.Client()); });
  EXPECT_TRUE(child.ok()) << child.ToString();
  auto grandchild = RunInChild([&server]() -> absl::Status {
    auto inner = RunInChild(
        [&server] { return HonestRoundTrip(server.secret, server.Client()); });
    return inner.ok() ? absl::OkStatus()
                      : absl::InternalError(inner.ToString());
  });
  EXPECT_TRUE(grandchild.ok()) << grandchild.ToString();
  EXPECT_EQ(server.listener->stats().refused_not_descendant, 0u);
  EXPECT_EQ(server.listener->stats().handshakes, 2u);
}

TEST(UnixTransportTest, OrphanedGrandchildIsRefusedByRequireDescendant) {
  ListenerOptions options = UnixOptions();
  options.require_descendant = true;
  EchoServer server(std::move(options));
  int report[2];
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  // The intermediate child forks the grandchild and exits at once; the
  // grandchild waits until it has been reparented (to init or a subreaper,
  // neither a descendant of this process), then connects and reports.
  auto intermediate = RunInChild([&]() -> absl::Status {
    const pid_t middle = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return absl::InternalError("fork failed");
    if (pid > 0) return absl::OkStatus();
    ::alarm(20);  // Nobody here reaps it: bound its life.
    while (::getppid() == middle) ::usleep(1000);
    auto stream = Connect(server.secret, server.Client(), In(absl::Seconds(5)));
    const char verdict = stream.ok()                            ? 'A'
                         : absl::IsUnavailable(stream.status()) ? 'R'
                                                                : 'E';
    ssize_t ignored = ::write(report[1], &verdict, 1);
    (void)ignored;
    ::_exit(0);
  });
  ASSERT_TRUE(intermediate.ok()) << intermediate.ToString();
  ::close(report[1]);
  char verdict = 0;
  ASSERT_EQ(::read(report[0], &verdict, 1), 1);
  ::close(report[0]);
  EXPECT_EQ(verdict, 'R') << "A: accepted, E: another error";
  ASSERT_TRUE(Eventually(
      [&] { return server.listener->stats().refused_not_descendant == 1; }));
  EXPECT_EQ(server.listener->stats().handshakes, 0u);
}

TEST(IsDescendantOfTest, FollowsTheParentChain) {
  EXPECT_TRUE(IsDescendantOf(::getpid(), ::getpid()));
  EXPECT_TRUE(IsDescendantOf(::getpid(), ::getppid()));
  EXPECT_FALSE(IsDescendantOf(::getppid(), ::getpid()));
  EXPECT_FALSE(IsDescendantOf(::getpid(), ::getpid() + 1000000));
  // A pid that does not exist (any more) is no descendant.
  EXPECT_FALSE(IsDescendantOf(4194304 + 1, ::getpid()));
  // Depth bound: our parent is one step up, not zero.
  EXPECT_FALSE(IsDescendantOf(::getpid(), ::getppid(), 0));
}

}  // namespace
}  // namespace zen::ipc
