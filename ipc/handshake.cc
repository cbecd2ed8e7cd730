#include "ipc/handshake.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "ipc/crypto.h"
#include "ipc/socket_io.h"

namespace zen::ipc {
namespace {

// Prefixes the failing step to a transport error, keeping its code.
absl::Status AtStep(const char* role, const char* step,
                    const absl::Status& status) {
  return absl::Status(
      status.code(),
      absl::StrCat(role, " handshake failed ", step, ": ", status.message()));
}

absl::Status RandomChallenge(uint8_t out[kChallengeSize]) {
  return SecureRandomBytes(absl::Span<uint8_t>(out, kChallengeSize));
}

}  // namespace

void ComputeProof(const Secret& secret, const char* label,
                  absl::Span<const uint8_t> challenge, uint8_t out[kHmacSize]) {
  const size_t label_len = std::strlen(label);
  uint8_t message[16 + kChallengeSize];
  std::memcpy(message, label, label_len);
  std::memcpy(message + label_len, challenge.data(), challenge.size());
  HmacSha256(secret.key(),
             absl::Span<const uint8_t>(message, label_len + challenge.size()),
             out);
  OPENSSL_cleanse(message, sizeof(message));
}

absl::Status ServerHandshake(int fd, const Secret& secret,
                             absl::Time deadline) {
  constexpr char kRole[] = "server";
  uint8_t server_challenge[kChallengeSize];
  absl::Status status = RandomChallenge(server_challenge);
  if (!status.ok()) return status;
  status = WriteAll(fd,
                    absl::string_view(reinterpret_cast<char*>(server_challenge),
                                      kChallengeSize),
                    deadline);
  if (!status.ok())
    return AtStep(kRole, "sending the server challenge", status);

  uint8_t reply[kHmacSize + kChallengeSize];
  status = ReadExactly(fd, absl::Span<uint8_t>(reply, sizeof(reply)), deadline);
  if (!status.ok()) return AtStep(kRole, "reading the client proof", status);

  uint8_t expected[kHmacSize];
  ComputeProof(secret, kClientAuthLabel, server_challenge, expected);
  const bool match = CRYPTO_memcmp(expected, reply, kHmacSize) == 0;
  OPENSSL_cleanse(expected, sizeof(expected));
  if (!match) {
    return absl::UnauthenticatedError(
        "server handshake failed: client authentication failed");
  }

  uint8_t proof[kHmacSize];
  ComputeProof(secret, kServerAuthLabel,
               absl::Span<const uint8_t>(reply + kHmacSize, kChallengeSize),
               proof);
  status =
      WriteAll(fd, absl::string_view(reinterpret_cast<char*>(proof), kHmacSize),
               deadline);
  if (!status.ok()) return AtStep(kRole, "sending the server proof", status);
  return absl::OkStatus();
}

absl::Status ClientHandshake(int fd, const Secret& secret,
                             absl::Time deadline) {
  constexpr char kRole[] = "client";
  uint8_t server_challenge[kChallengeSize];
  absl::Status status = ReadExactly(
      fd, absl::Span<uint8_t>(server_challenge, kChallengeSize), deadline);
  if (!status.ok())
    return AtStep(kRole, "reading the server challenge", status);

  uint8_t reply[kHmacSize + kChallengeSize];
  ComputeProof(secret, kClientAuthLabel, server_challenge, reply);
  status = RandomChallenge(reply + kHmacSize);
  if (!status.ok()) return status;
  status = WriteAll(
      fd, absl::string_view(reinterpret_cast<char*>(reply), sizeof(reply)),
      deadline);
  if (!status.ok()) return AtStep(kRole, "sending the client proof", status);

  uint8_t server_proof[kHmacSize];
  status =
      ReadExactly(fd, absl::Span<uint8_t>(server_proof, kHmacSize), deadline);
  if (!status.ok()) return AtStep(kRole, "reading the server proof", status);

  uint8_t expected[kHmacSize];
  ComputeProof(secret, kServerAuthLabel,
               absl::Span<const uint8_t>(reply + kHmacSize, kChallengeSize),
               expected);
  const bool match = CRYPTO_memcmp(expected, server_proof, kHmacSize) == 0;
  OPENSSL_cleanse(expected, sizeof(expected));
  if (!match) {
    return absl::UnauthenticatedError(
        "client handshake failed: server authentication failed");
  }
  return absl::OkStatus();
}

}  // namespace zen::ipc
