// The handshake fails closed: when the HMAC cannot be computed, or the key is
// not a 32-byte secret, each side refuses the connection with an error that
// names the step, and sends nothing that depends on the missing proof.
#include "ipc/handshake.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "absl/strings/match.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "ipc/socket_io.h"
#include "ipc/unique_fd.h"
#include "testing/deadline.h"
#include "testing/test_secret.h"

namespace zen::ipc {
namespace {

using ::zen::testing::In;

struct SocketPair {
  SocketPair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0) {
      a = UniqueFd(fds[0]);
      b = UniqueFd(fds[1]);
    }
  }
  UniqueFd a, b;
};

// Makes every OpenSSL algorithm fetch of the default library context fail
// while alive: no provider is named "zen-none". HMAC() then returns NULL
// without writing its output, which is the failure the handshake must not
// mistake for a proof. The calling thread's random generator already exists
// (RAND_bytes first), so only the HMAC step fails.
class HmacUnavailable {
 public:
  HmacUnavailable() {
    uint8_t warm[8];
    EXPECT_EQ(RAND_bytes(warm, sizeof(warm)), 1);
    EXPECT_EQ(EVP_set_default_properties(nullptr, "provider=zen-none"), 1);
  }
  ~HmacUnavailable() { EVP_set_default_properties(nullptr, ""); }
};

// Everything the peer received until it saw the end of the stream.
std::string ReadToEnd(int fd) {
  std::string got;
  char buf[256];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) return got;
    got.append(buf, static_cast<size_t>(n));
  }
}

TEST(HandshakeTest, ServerRefusesWhenTheHmacFails) {
  const Secret secret = testing::TestSecret();
  SocketPair pair;
  ASSERT_TRUE(pair.a.valid());
  // A client that sends 64 bytes of zeros as its reply: whatever the
  // server's "expected proof" is when HMAC fails, it must not be compared.
  std::string received;
  std::thread client([&] {
    uint8_t challenge[kChallengeSize];
    if (!ReadExactly(pair.b.get(), challenge, In(absl::Seconds(5))).ok())
      return;
    const std::string zeros(kHmacSize + kChallengeSize, '\0');
    (void)WriteAll(pair.b.get(), zeros, In(absl::Seconds(5)));
    received = ReadToEnd(pair.b.get());
  });
  absl::Status status;
  {
    HmacUnavailable fail;
    status = ServerHandshake(pair.a.get(), secret, In(absl::Seconds(5)));
  }
  pair.a.Reset();
  client.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "computing the client proof"))
      << status;
  EXPECT_EQ(received, "");  // No server proof, nothing at all.
}

TEST(HandshakeTest, ClientRefusesWhenTheHmacFailsAndSendsNothing) {
  const Secret secret = testing::TestSecret();
  SocketPair pair;
  ASSERT_TRUE(pair.a.valid());
  std::string received;
  std::thread server([&] {
    const std::string challenge(kChallengeSize, '\x42');
    if (!WriteAll(pair.b.get(), challenge, In(absl::Seconds(5))).ok()) return;
    received = ReadToEnd(pair.b.get());
  });
  absl::Status status;
  {
    HmacUnavailable fail;
    status = ClientHandshake(pair.a.get(), secret, In(absl::Seconds(5)));
  }
  pair.a.Reset();
  server.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "computing the client proof"))
      << status;
  // Today's bug sent 64 bytes: an uninitialized "proof" and a challenge.
  EXPECT_EQ(received.size(), 0u);
}

// Both sides holding no key (a moved-from or default Secret) would agree on
// HMAC-SHA256 with an empty key, which anyone can compute: refused.
TEST(HandshakeTest, BothSidesRefuseAnEmptyKey) {
  const Secret none;
  SocketPair pair;
  ASSERT_TRUE(pair.a.valid());
  absl::Status client_status;
  std::thread client([&] {
    client_status = ClientHandshake(pair.b.get(), none, In(absl::Seconds(5)));
    pair.b.Reset();
  });
  const absl::Status server_status =
      ServerHandshake(pair.a.get(), none, In(absl::Seconds(5)));
  pair.a.Reset();
  client.join();
  EXPECT_EQ(server_status.code(), absl::StatusCode::kInvalidArgument)
      << server_status;
  EXPECT_EQ(client_status.code(), absl::StatusCode::kInvalidArgument)
      << client_status;
  EXPECT_TRUE(absl::StrContains(server_status.message(), "server handshake"))
      << server_status;
  EXPECT_TRUE(absl::StrContains(client_status.message(), "client handshake"))
      << client_status;
}

TEST(HandshakeTest, ComputeProofChecksItsSizesAndLeavesZerosOnFailure) {
  const Secret secret = testing::TestSecret();
  const uint8_t challenge[kChallengeSize + 1] = {};
  const uint8_t zeros[kHmacSize] = {};
  uint8_t out[kHmacSize + 1];
  auto refused = [&](const Secret& s, const char* label, size_t challenge_size,
                     size_t out_size) {
    for (uint8_t& b : out) b = 0xAA;
    const absl::Status status =
        ComputeProof(s, label, absl::MakeConstSpan(challenge, challenge_size),
                     absl::MakeSpan(out, out_size));
    const bool zeroed =
        out_size != kHmacSize || std::memcmp(out, zeros, kHmacSize) == 0;
    return absl::IsInvalidArgument(status) && zeroed;
  };
  EXPECT_TRUE(refused(Secret(), kClientAuthLabel, kChallengeSize, kHmacSize));
  EXPECT_TRUE(refused(secret, "", kChallengeSize, kHmacSize));
  EXPECT_TRUE(refused(secret, nullptr, kChallengeSize, kHmacSize));
  EXPECT_TRUE(refused(secret, "A-LABEL-OF-17-BYT", kChallengeSize, kHmacSize));
  EXPECT_TRUE(refused(secret, kClientAuthLabel, kChallengeSize - 1, kHmacSize));
  EXPECT_TRUE(refused(secret, kClientAuthLabel, kChallengeSize + 1, kHmacSize));
  EXPECT_TRUE(refused(secret, kClientAuthLabel, kChallengeSize, kHmacSize - 1));
  EXPECT_TRUE(refused(secret, kClientAuthLabel, kChallengeSize, kHmacSize + 1));
  EXPECT_TRUE(ComputeProof(secret, kClientAuthLabel,
                           absl::MakeConstSpan(challenge, kChallengeSize),
                           absl::MakeSpan(out, kHmacSize))
                  .ok());
  {
    HmacUnavailable fail;
    for (uint8_t& b : out) b = 0xAA;
    const absl::Status status =
        ComputeProof(secret, kClientAuthLabel,
                     absl::MakeConstSpan(challenge, kChallengeSize),
                     absl::MakeSpan(out, kHmacSize));
    EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
    EXPECT_EQ(std::memcmp(out, zeros, kHmacSize), 0);
  }
}

TEST(HandshakeTest, HonestPeersStillAgree) {
  const Secret secret = testing::TestSecret();
  SocketPair pair;
  ASSERT_TRUE(pair.a.valid());
  absl::Status client_status;
  std::thread client([&] {
    client_status = ClientHandshake(pair.b.get(), secret, In(absl::Seconds(5)));
  });
  const absl::Status server_status =
      ServerHandshake(pair.a.get(), secret, In(absl::Seconds(5)));
  client.join();
  EXPECT_TRUE(server_status.ok()) << server_status;
  EXPECT_TRUE(client_status.ok()) << client_status;
}

}  // namespace
}  // namespace zen::ipc
