// Hostile peers at the handshake, against a running server (and, for the
// client's side, a fake server against our connector). Every test ends by
// checking that an honest client is served promptly and that the server's
// descriptors are back to their baseline.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "ipc/connector.h"
#include "ipc/handshake.h"
#include "ipc/listener.h"
#include "ipc/socket_io.h"
#include "testing/deadline.h"
#include "testing/test_secret.h"
#include "tests/hostile/live_server.h"

namespace zen::hostile {
namespace {

using ::zen::testing::In;

// What the server did with a connection: bytes it sent after the challenge,
// and how long it took to close.
struct Closed {
  size_t extra_bytes = 0;
  absl::Duration after;
};

absl::StatusOr<Closed> WaitForClose(int fd, absl::Duration patience) {
  const absl::Time start = zen::Now();
  absl::StatusOr<size_t> drained = DrainUntilClosed(fd, In(patience));
  if (!drained.ok()) return drained.status();
  return Closed{*drained, zen::Now() - start};
}

void ExpectHealthy(LiveServer& server) {
  EXPECT_TRUE(server.HonestCallIsPrompt().ok()) << server.HonestCallIsPrompt();
  absl::Status fds = server.DescriptorsBackToBaseline();
  EXPECT_TRUE(fds.ok()) << fds;
}

TEST(HandshakeAttackTest, SilenceAtEveryByteIsClosedAtTheHandshakeDeadline) {
  LiveServer server;
  const ipc::Secret& secret = server.secret();
  // One connection per position: silent before reading the challenge, and
  // silent after sending 0..63 of the 64 reply bytes (the last one sent
  // with a correct proof, so the server waits for exactly one more byte).
  // Two waves stay under the cap of pending handshakes (64).
  for (int wave = 0; wave < 2; ++wave) {
    std::vector<ipc::UniqueFd> fds;
    for (int k = wave * 33; k < std::min(65, (wave + 1) * 33); ++k) {
      absl::StatusOr<ipc::UniqueFd> fd = RawConnect(server.port());
      ASSERT_TRUE(fd.ok()) << fd.status();
      if (k > 0) {
        absl::StatusOr<std::string> challenge =
            ReadChallenge(fd->get(), In(absl::Seconds(5)));
        ASSERT_TRUE(challenge.ok()) << challenge.status();
        const std::string reply =
            Proof(secret, ipc::kClientAuthLabel, *challenge) +
            std::string(ipc::kChallengeSize, 'c');
        ASSERT_TRUE(SendBytes(fd->get(), reply.substr(0, k - 1)).ok());
      }
      fds.push_back(std::move(*fd));
    }
    // Meanwhile honest clients are served (the handshake runs off the
    // accept path).
    EXPECT_TRUE(server.HonestCallIsPrompt().ok());
    const absl::Duration limit =
        server.options().listener.handshake_timeout + absl::Seconds(2);
    for (size_t i = 0; i < fds.size(); ++i) {
      absl::StatusOr<Closed> closed = WaitForClose(fds[i].get(), limit);
      ASSERT_TRUE(closed.ok()) << "position " << i << ": " << closed.status();
      // Nothing but (at most) the challenge: never a server proof.
      EXPECT_LE(closed->extra_bytes, ipc::kChallengeSize) << "position " << i;
    }
  }
  ExpectHealthy(server);
}

TEST(HandshakeAttackTest, WrongHmacIsClosedAtOnceWithoutAWord) {
  LiveServer server;
  const ipc::Secret wrong = testing::TestSecret(0x11);
  for (const char* label : {ipc::kClientAuthLabel, ipc::kServerAuthLabel}) {
    for (bool right_key : {false, true}) {
      // Wrong key with the right label, and the right key with the label
      // of the other direction (a reflected server proof).
      if (right_key && label == ipc::kClientAuthLabel) continue;
      absl::StatusOr<ipc::UniqueFd> fd = RawConnect(server.port());
      ASSERT_TRUE(fd.ok());
      absl::StatusOr<std::string> challenge =
          ReadChallenge(fd->get(), In(absl::Seconds(5)));
      ASSERT_TRUE(challenge.ok());
      const std::string reply =
          Proof(right_key ? server.secret() : wrong, label, *challenge) +
          std::string(ipc::kChallengeSize, 'c');
      ASSERT_TRUE(SendBytes(fd->get(), reply).ok());
      absl::StatusOr<Closed> closed = WaitForClose(fd->get(), absl::Seconds(5));
      ASSERT_TRUE(closed.ok()) << closed.status();
      EXPECT_EQ(closed->extra_bytes, 0u);
      EXPECT_LT(closed->after, PromptBound());
    }
  }
  // The connector sees the silent close as the connection ending.
  ipc::ConnectorOptions options;
  options.port = server.port();
  auto rejected = ipc::Connect(wrong, options, In(absl::Seconds(5)));
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kUnavailable);
  ExpectHealthy(server);
}

TEST(HandshakeAttackTest, GarbageAndHttpInsteadOfAHandshakeAreClosed) {
  LiveServer server;
  std::string random(64, '\0');
  for (size_t i = 0; i < random.size(); ++i) random[i] = char(i * 131 + 7);
  const std::string long_http =
      "GET /api/runtime/config HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: "
      "curl/7.88.1\r\nAccept: */*\r\n\r\n";
  const std::string short_http = "GET / HTTP/1.0\r\n\r\n";
  const std::string tls_hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                              11);
  struct Case {
    std::string name;
    std::string bytes;
    bool at_once;  // 64 bytes or more: rejected on the spot.
  };
  const std::vector<Case> cases = {
      {"64 random bytes", random, true},
      {"1 MiB of zeros", std::string(1 << 20, '\0'), true},
      {"HTTP request", long_http, true},
      {"HTTP request shorter than a reply", short_http, false},
      {"TLS ClientHello start", tls_hello, false},
      {"one byte", "x", false},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ipc::UniqueFd> fd = RawConnect(server.port());
    ASSERT_TRUE(fd.ok());
    std::thread writer([fd = fd->get(), &c] {
      // The server may close mid-way through a long write: that fails here.
      (void)SendBytes(fd, c.bytes);
    });
    absl::StatusOr<Closed> closed =
        WaitForClose(fd->get(), server.options().listener.handshake_timeout +
                                    absl::Seconds(2));
    writer.join();
    ASSERT_TRUE(closed.ok()) << c.name << ": " << closed.status();
    EXPECT_LE(closed->extra_bytes, ipc::kChallengeSize) << c.name;
    if (c.at_once) {
      EXPECT_LT(closed->after, PromptBound()) << c.name;
    }
  }
  ExpectHealthy(server);
}

TEST(HandshakeAttackTest, ReplayedReplyOnANewConnectionFails) {
  LiveServer server;
  // An eavesdropper records an honest client's 64 bytes...
  absl::StatusOr<ipc::UniqueFd> honest = RawConnect(server.port());
  ASSERT_TRUE(honest.ok());
  absl::StatusOr<std::string> challenge =
      ReadChallenge(honest->get(), In(absl::Seconds(5)));
  ASSERT_TRUE(challenge.ok());
  const std::string recorded =
      Proof(server.secret(), ipc::kClientAuthLabel, *challenge) +
      std::string(ipc::kChallengeSize, 'r');
  ASSERT_TRUE(SendBytes(honest->get(), recorded).ok());
  absl::StatusOr<std::string> server_proof =
      ReadChallenge(honest->get(), In(absl::Seconds(5)));
  ASSERT_TRUE(server_proof.ok()) << "the honest reply was not accepted";
  honest->Reset();

  // ...and plays them back on a new connection: the challenge is new.
  absl::StatusOr<ipc::UniqueFd> replay = RawConnect(server.port());
  ASSERT_TRUE(replay.ok());
  absl::StatusOr<std::string> fresh =
      ReadChallenge(replay->get(), In(absl::Seconds(5)));
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(*fresh, *challenge);
  ASSERT_TRUE(SendBytes(replay->get(), recorded).ok());
  absl::StatusOr<Closed> closed = WaitForClose(replay->get(), absl::Seconds(5));
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->extra_bytes, 0u);
  replay->Reset();

  // Challenges do not repeat.
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<ipc::UniqueFd> fd = RawConnect(server.port());
    ASSERT_TRUE(fd.ok());
    absl::StatusOr<std::string> c =
        ReadChallenge(fd->get(), In(absl::Seconds(5)));
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(seen.insert(*c).second) << "challenge repeated";
  }
  ExpectHealthy(server);
}

TEST(HandshakeAttackTest, ThousandUnauthenticatedConnectionsAtOnce) {
  rlimit limit;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < 4096 && limit.rlim_max >= 4096) {
    limit.rlim_cur = 4096;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
  }
  LiveServer server;
  const size_t threads_before = ThreadCount();
  std::vector<ipc::UniqueFd> flood;
  for (int i = 0; i < 1000; ++i) {
    ipc::UniqueFd fd(
        ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(fd.valid());
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    flood.push_back(std::move(fd));
  }
  // The server holds at most its cap of pending handshakes: one thread and
  // one descriptor each; the rest are closed at once.
  const size_t cap = server.options().listener.max_pending_handshakes;
  size_t max_threads = 0;
  size_t max_fds = 0;
  const absl::Time until = In(absl::Milliseconds(500));
  while (zen::Now() < until) {
    max_threads = std::max(max_threads, ThreadCount());
    max_fds = std::max(max_fds, DescriptorCount());
    absl::SleepFor(absl::Milliseconds(5));
  }
  // (Plus evicted squatters' threads on their way out, and parked ones.)
  EXPECT_LE(max_threads, threads_before + cap + ipc::kMaxEvicting + 8);
  EXPECT_LE(max_fds, server.baseline_descriptors() + 1000 + cap + 8);
  // Every one of them ends: closed at once, or at the handshake deadline.
  const absl::Duration patience =
      server.options().listener.handshake_timeout + absl::Seconds(3);
  for (ipc::UniqueFd& fd : flood) {
    absl::StatusOr<size_t> drained = DrainUntilClosed(fd.get(), In(patience));
    ASSERT_TRUE(drained.ok()) << drained.status();
    EXPECT_LE(*drained, ipc::kChallengeSize);
  }
  flood.clear();
  ExpectHealthy(server);
}

// The cap on pending handshakes bounds what unauthenticated peers cost, and
// is also the one thing they can take: while the cap is held by silent
// connections, new connections (honest ones too) are closed at once. They
// get in again as soon as a slot frees (here: the attacker leaves; at worst:
// the handshake deadline). docs/security.md lists this as a known limit.
TEST(HandshakeAttackTest, SquattersInEveryHandshakeSlotGiveWayToWorkers) {
  LiveServer server;
  const size_t cap = server.options().listener.max_pending_handshakes;
  std::vector<ipc::UniqueFd> held;
  for (size_t i = 0; i < cap; ++i) {
    absl::StatusOr<ipc::UniqueFd> fd = RawConnect(server.port());
    ASSERT_TRUE(fd.ok());
    // Accepted (its challenge arrives), then silent.
    ASSERT_TRUE(ReadChallenge(fd->get(), In(absl::Seconds(5))).ok());
    held.push_back(std::move(*fd));
  }
  absl::SleepFor(ipc::kSquatterAge + absl::Milliseconds(20));
  // Workers get in promptly, however long the squatters would otherwise
  // hold their slots: the first takes the oldest squatter's slot, and the
  // slot it frees serves the next.
  for (int i = 0; i < 3; ++i) {
    absl::Status honest = server.HonestCallIsPrompt();
    EXPECT_TRUE(honest.ok()) << i << ": " << honest;
  }
  size_t closed = 0;
  for (ipc::UniqueFd& fd : held) {
    uint8_t byte;
    absl::StatusOr<size_t> n = ipc::ReadSome(
        fd.get(), absl::Span<uint8_t>(&byte, 1), In(absl::Milliseconds(1)));
    closed += absl::IsUnavailable(n.status());
  }
  EXPECT_EQ(closed, 1u);
  held.clear();
  absl::Status fds = server.DescriptorsBackToBaseline();
  EXPECT_TRUE(fds.ok()) << fds;
}

// Our client against a fake server that goes silent after k bytes of its
// challenge, or after k bytes of its proof.
TEST(HandshakeAttackTest, ClientFacingASilentServerGivesUpAtItsDeadline) {
  const ipc::Secret secret = testing::TestSecret();
  const absl::Duration handshake_timeout = absl::Milliseconds(500);
  std::vector<std::thread> cases;
  std::atomic<int> failures{0};
  for (int phase = 0; phase < 2; ++phase) {
    for (int k = 0; k < 32; ++k) {
      cases.emplace_back([&, phase, k] {
        absl::StatusOr<ipc::UniqueFd> listen =
            ipc::ListenTcp(ipc::kLoopbackHost, 0, 4);
        if (!listen.ok()) return (void)++failures;
        const uint16_t port = *ipc::LocalPort(listen->get());
        std::thread fake([&, fd = listen->get()] {
          absl::StatusOr<ipc::UniqueFd> conn =
              ipc::Accept(fd, In(absl::Seconds(5)));
          if (!conn.ok()) return;
          const std::string challenge(32, 'C');
          if (phase == 0) {
            (void)SendBytes(conn->get(), challenge.substr(0, k));
          } else {
            (void)SendBytes(conn->get(), challenge);
            std::string reply(64, '\0');
            (void)ipc::ReadExactly(
                conn->get(),
                absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(reply.data()),
                                    64),
                In(absl::Seconds(5)));
            const std::string proof =
                Proof(secret, ipc::kServerAuthLabel,
                      absl::string_view(reply).substr(32));
            (void)SendBytes(conn->get(), proof.substr(0, k));
          }
          // Silent, but open, until the client gives up.
          (void)DrainUntilClosed(conn->get(), In(absl::Seconds(5)));
        });
        ipc::ConnectorOptions options;
        options.port = port;
        options.handshake_timeout = handshake_timeout;
        const absl::Time start = zen::Now();
        auto stream = ipc::Connect(secret, options);
        const absl::Duration took = zen::Now() - start;
        if (stream.status().code() != absl::StatusCode::kDeadlineExceeded ||
            took > handshake_timeout + PromptBound()) {
          ++failures;
          std::fprintf(stderr, "phase %d k %d: %s after %s\n", phase, k,
                       stream.status().ToString().c_str(),
                       absl::FormatDuration(took).c_str());
        }
        stream = absl::UnavailableError("done");  // Close our end.
        fake.join();
      });
    }
  }
  for (std::thread& t : cases) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(HandshakeAttackTest, ClientRejectsAServerWithAWrongProof) {
  const ipc::Secret secret = testing::TestSecret();
  const ipc::Secret wrong = testing::TestSecret(0x22);
  absl::StatusOr<ipc::UniqueFd> listen =
      ipc::ListenTcp(ipc::kLoopbackHost, 0, 4);
  ASSERT_TRUE(listen.ok());
  std::thread fake([&, fd = listen->get()] {
    absl::StatusOr<ipc::UniqueFd> conn = ipc::Accept(fd, In(absl::Seconds(5)));
    if (!conn.ok()) return;
    (void)ipc::ServerHandshake(conn->get(), wrong, In(absl::Seconds(5)));
  });
  ipc::ConnectorOptions options;
  options.port = *ipc::LocalPort(listen->get());
  auto stream = ipc::Connect(secret, options);
  fake.join();
  // The impostor closes on our proof (it cannot check it), which we see as
  // the connection ending; either way we are not connected.
  EXPECT_FALSE(stream.ok());
  EXPECT_TRUE(absl::IsUnavailable(stream.status()) ||
              absl::IsUnauthenticated(stream.status()))
      << stream.status();
}

}  // namespace
}  // namespace zen::hostile
