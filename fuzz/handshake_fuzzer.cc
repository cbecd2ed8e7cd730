// Fuzzes both roles of the handshake (ipc::ServerHandshake and
// ipc::ClientHandshake) against an adversarial peer on a socket pair.
//
// The peer runs a script the input describes: an honest peer that computes
// correct proofs, or one that sends raw input bytes instead; optionally one
// flipped bit, a hang-up after any byte, arbitrary chunking, and bytes
// pipelined behind the handshake. Checked:
// * the side under test succeeds exactly when the peer was honest, did not
//   corrupt its proof and did not hang up early;
// * its proof is the right HMAC whenever the peer could check it;
// * on failure the status is kUnauthenticated (a full, wrong proof) or
//   kUnavailable (the peer hung up), and never carries key bytes;
// * on success nothing after the handshake was consumed (the reference lets
//   a client pipeline its first frame behind its 64 bytes);
// * no step blocks: the peer always hangs up, so every read ends.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "ipc/handshake.h"
#include "ipc/secret.h"
#include "ipc/socket_io.h"
#include "ipc/unique_fd.h"

namespace zen::fuzz {
namespace {

constexpr size_t kReplySize = ipc::kHmacSize + ipc::kChallengeSize;

const ipc::Secret& TheSecret() {
  static const ipc::Secret* secret = [] {
    uint8_t key[ipc::Secret::kSize];
    for (size_t i = 0; i < sizeof(key); ++i) {
      key[i] = static_cast<uint8_t>(0x9b * i + 0x3d);
    }
    return new ipc::Secret(*ipc::Secret::FromBytes(key));
  }();
  return *secret;
}

absl::Time Soon() { return zen::Now() + absl::Seconds(5); }

std::string Proof(const char* label, absl::string_view challenge) {
  uint8_t out[ipc::kHmacSize];
  // A challenge of another size, or a failed HMAC, leaves a proof of zeros:
  // a wrong proof, which is what the peer then gets.
  (void)ipc::ComputeProof(
      TheSecret(), label,
      absl::Span<const uint8_t>(
          reinterpret_cast<const uint8_t*>(challenge.data()), challenge.size()),
      out);
  return std::string(reinterpret_cast<char*>(out), sizeof(out));
}

// What the input says the adversarial peer does.
struct Script {
  bool our_side_is_server = false;
  bool honest = false;       // Computes correct proofs.
  bool flip = false;         // Flips one bit of its proof.
  size_t flip_bit = 0;       // Which one, within the proof.
  bool hang_up = false;      // Stops sending after `hang_up_after` bytes.
  size_t hang_up_after = 0;  // Counted over everything the peer sends.
  uint64_t chunk_seed = 0;   // Chunking of its writes.
  std::string peer_bytes;    // Its challenge, or its raw (dishonest) reply.
  std::string pipelined;     // Sent right after the handshake bytes.
};

// Sends `bytes`, honouring the hang-up budget and chunking. Returns false
// once the budget is spent (the peer then hangs up).
bool PeerSend(int fd, absl::string_view bytes, const Script& script,
              size_t* sent, SplitMix64* rng) {
  while (!bytes.empty()) {
    size_t n = std::min<size_t>(bytes.size(), 1 + rng->Below(40));
    if (script.hang_up) {
      if (*sent >= script.hang_up_after) return false;
      n = std::min(n, script.hang_up_after - *sent);
    }
    if (!ipc::WriteAll(fd, bytes.substr(0, n), Soon()).ok()) return false;
    *sent += n;
    bytes.remove_prefix(n);
  }
  return !script.hang_up || *sent < script.hang_up_after;
}

// Reads exactly n bytes, or returns false if the other side hung up.
bool PeerRead(int fd, size_t n, std::string* out) {
  out->resize(n);
  return ipc::ReadExactly(
             fd,
             absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(out->data()), n),
             Soon())
      .ok();
}

std::string Flip(std::string proof, const Script& script) {
  if (script.flip && !proof.empty()) {
    const size_t bit = script.flip_bit % (8 * proof.size());
    proof[bit / 8] = static_cast<char>(proof[bit / 8] ^ (1 << (bit % 8)));
  }
  return proof;
}

// The adversarial client, facing our ServerHandshake. Returns whether the
// server's proof it received was correct (or could not be checked).
bool AdversarialClient(int fd, const Script& script, bool* got_server_proof) {
  SplitMix64 rng(script.chunk_seed);
  size_t sent = 0;
  std::string challenge;
  if (!PeerRead(fd, ipc::kChallengeSize, &challenge)) return true;
  std::string reply;
  if (script.honest) {
    std::string client_challenge = script.peer_bytes;
    client_challenge.resize(ipc::kChallengeSize, 'c');
    reply = Flip(Proof(ipc::kClientAuthLabel, challenge), script) +
            client_challenge;
  } else {
    reply = script.peer_bytes;
  }
  if (!PeerSend(fd, reply + script.pipelined, script, &sent, &rng)) {
    return true;
  }
  std::string server_proof;
  if (reply.size() < kReplySize ||
      !PeerRead(fd, ipc::kHmacSize, &server_proof)) {
    return true;
  }
  *got_server_proof = true;
  return server_proof ==
         Proof(ipc::kServerAuthLabel, absl::string_view(reply).substr(
                                          ipc::kHmacSize, ipc::kChallengeSize));
}

// The adversarial server, facing our ClientHandshake. Returns whether the
// client's proof was correct (or could not be checked).
bool AdversarialServer(int fd, const Script& script) {
  SplitMix64 rng(script.chunk_seed);
  size_t sent = 0;
  std::string challenge = script.peer_bytes;
  if (script.honest) challenge.resize(ipc::kChallengeSize, 's');
  if (!PeerSend(fd, challenge, script, &sent, &rng)) return true;
  std::string reply;
  if (challenge.size() < ipc::kChallengeSize ||
      !PeerRead(fd, kReplySize, &reply)) {
    return true;
  }
  const bool client_proof_ok =
      reply.substr(0, ipc::kHmacSize) ==
      Proof(ipc::kClientAuthLabel, challenge.substr(0, ipc::kChallengeSize));
  std::string proof =
      Flip(Proof(ipc::kServerAuthLabel,
                 absl::string_view(reply).substr(ipc::kHmacSize)),
           script);
  if (!script.honest) proof = script.pipelined.substr(0, ipc::kHmacSize);
  PeerSend(fd, proof + (script.honest ? script.pipelined : ""), script, &sent,
           &rng);
  return client_proof_ok;
}

void CheckNoKeyBytes(const absl::Status& status) {
  const absl::Span<const uint8_t> key = TheSecret().key();
  const std::string key_bytes(key.begin(), key.end());
  FUZZ_CHECK(status.message().find(key_bytes.substr(0, 8)) ==
             absl::string_view::npos);
}

void Run(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const uint8_t flags = input.ConsumeByte();
  Script script;
  script.our_side_is_server = (flags & 1) != 0;
  script.honest = (flags & 2) != 0;
  script.flip = (flags & 4) != 0;
  script.hang_up = (flags & 8) != 0;
  script.flip_bit = input.ConsumeByte();
  script.hang_up_after = input.ConsumeInRange(0, 2 * kReplySize);
  script.chunk_seed = input.ConsumeInt<uint64_t>();
  script.peer_bytes = std::string(input.ConsumeUntil("\n--\n"));
  script.pipelined = std::string(input.ConsumeRemaining());

  int fds[2];
  FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          0, fds) == 0);
  ipc::UniqueFd ours(fds[0]);
  ipc::UniqueFd peer(fds[1]);

  bool peer_saw_correct_proof = true;
  bool got_server_proof = false;
  std::thread adversary([&] {
    peer_saw_correct_proof =
        script.our_side_is_server
            ? AdversarialClient(peer.get(), script, &got_server_proof)
            : AdversarialServer(peer.get(), script);
    peer.Reset();  // Hang up: every read of ours ends.
  });
  const absl::Status status =
      script.our_side_is_server
          ? ipc::ServerHandshake(ours.get(), TheSecret(), Soon())
          : ipc::ClientHandshake(ours.get(), TheSecret(), Soon());
  // What followed the handshake is still unread (no over-read). An honest
  // peer sends 64 handshake bytes in either role, then the pipelined ones
  // until its hang-up budget runs out.
  std::string expected_after = script.pipelined;
  if (script.hang_up) {
    expected_after.resize(
        std::min(expected_after.size(), script.hang_up_after > kReplySize
                                            ? script.hang_up_after - kReplySize
                                            : 0));
  }
  std::string after;
  if (status.ok() && !expected_after.empty()) {
    FUZZ_CHECK(PeerRead(ours.get(), expected_after.size(), &after));
  }
  ours.Reset();
  adversary.join();

  FUZZ_CHECK(peer_saw_correct_proof);
  CheckNoKeyBytes(status);
  FUZZ_CHECK(status.ok() || absl::IsUnauthenticated(status) ||
             absl::IsUnavailable(status));
  if (status.ok()) {
    // Success needs the secret: an honest peer with an intact proof.
    FUZZ_CHECK(script.honest);
    FUZZ_CHECK(!script.flip);
    FUZZ_CHECK(after == expected_after);
    // A peer that stayed to the end has checked the server's proof.
    if (script.our_side_is_server && !script.hang_up) {
      FUZZ_CHECK(got_server_proof);
    }
  } else if (script.honest && !script.flip && !script.hang_up) {
    FUZZ_CHECK(false && "an honest, complete handshake failed");
  }
}

}  // namespace
}  // namespace zen::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zen::fuzz::Run(data, size);
  return 0;
}
