#include "ipc/handshake.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
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

// A handshake with no key, or a key of another size, is refused before a
// byte is exchanged: HMAC with an empty key is something anyone can compute.
absl::Status CheckKey(const char* role, const Secret& secret) {
  if (secret.key().size() == Secret::kSize) return absl::OkStatus();
  return AtStep(role, "checking the key",
                absl::InvalidArgumentError("no 32-byte secret"));
}

}  // namespace

absl::Status ComputeProof(const Secret& secret, const char* label,
                          absl::Span<const uint8_t> challenge,
                          absl::Span<uint8_t> out) {
  if (out.size() != kHmacSize) {
    return absl::InvalidArgumentError("proof: output is not 32 bytes");
  }
  OPENSSL_cleanse(out.data(), out.size());
  if (secret.key().size() != Secret::kSize) {
    return absl::InvalidArgumentError("proof: no 32-byte secret");
  }
  const size_t label_len = label == nullptr
                               ? kMaxLabelSize + 1
                               : ::strnlen(label, kMaxLabelSize + 1);
  if (label_len == 0 || label_len > kMaxLabelSize) {
    return absl::InvalidArgumentError("proof: label missing or too long");
  }
  if (challenge.size() != kChallengeSize) {
    return absl::InvalidArgumentError("proof: challenge is not 32 bytes");
  }
  uint8_t message[kMaxLabelSize + kChallengeSize];
  std::memcpy(message, label, label_len);
  std::memcpy(message + label_len, challenge.data(), challenge.size());
  absl::Status status = HmacSha256(
      secret.key(),
      absl::Span<const uint8_t>(message, label_len + kChallengeSize), out);
  OPENSSL_cleanse(message, sizeof(message));
  return status;
}

absl::Status ServerHandshake(int fd, const Secret& secret,
                             absl::Time deadline) {
  constexpr char kRole[] = "server";
  ZEN_RETURN_IF_ERROR(CheckKey(kRole, secret));
  uint8_t server_challenge[kChallengeSize];
  absl::Status status = RandomChallenge(server_challenge);
  if (!status.ok()) return AtStep(kRole, "making the server challenge", status);
  status = WriteAll(fd,
                    absl::string_view(reinterpret_cast<char*>(server_challenge),
                                      kChallengeSize),
                    deadline);
  if (!status.ok())
    return AtStep(kRole, "sending the server challenge", status);

  uint8_t reply[kHmacSize + kChallengeSize];
  status = ReadExactly(fd, absl::Span<uint8_t>(reply, sizeof(reply)), deadline);
  if (!status.ok()) return AtStep(kRole, "reading the client proof", status);

  // Fails closed: a proof that could not be computed is never compared (its
  // bytes would be zeros, or whatever was on the stack before this fix).
  uint8_t expected[kHmacSize];
  status = ComputeProof(secret, kClientAuthLabel, server_challenge, expected);
  if (!status.ok()) return AtStep(kRole, "computing the client proof", status);
  const bool match = CRYPTO_memcmp(expected, reply, kHmacSize) == 0;
  OPENSSL_cleanse(expected, sizeof(expected));
  if (!match) {
    return absl::UnauthenticatedError(
        "server handshake failed: client authentication failed");
  }

  uint8_t proof[kHmacSize];
  status = ComputeProof(
      secret, kServerAuthLabel,
      absl::Span<const uint8_t>(reply + kHmacSize, kChallengeSize), proof);
  if (!status.ok()) return AtStep(kRole, "computing the server proof", status);
  status =
      WriteAll(fd, absl::string_view(reinterpret_cast<char*>(proof), kHmacSize),
               deadline);
  OPENSSL_cleanse(proof, sizeof(proof));
  if (!status.ok()) return AtStep(kRole, "sending the server proof", status);
  return absl::OkStatus();
}

absl::Status ClientHandshake(int fd, const Secret& secret,
                             absl::Time deadline) {
  constexpr char kRole[] = "client";
  ZEN_RETURN_IF_ERROR(CheckKey(kRole, secret));
  uint8_t server_challenge[kChallengeSize];
  absl::Status status = ReadExactly(
      fd, absl::Span<uint8_t>(server_challenge, kChallengeSize), deadline);
  if (!status.ok())
    return AtStep(kRole, "reading the server challenge", status);

  uint8_t reply[kHmacSize + kChallengeSize];
  status = ComputeProof(secret, kClientAuthLabel, server_challenge,
                        absl::Span<uint8_t>(reply, kHmacSize));
  if (!status.ok()) return AtStep(kRole, "computing the client proof", status);
  status = RandomChallenge(reply + kHmacSize);
  if (!status.ok()) {
    OPENSSL_cleanse(reply, sizeof(reply));
    return AtStep(kRole, "making the client challenge", status);
  }
  status = WriteAll(
      fd, absl::string_view(reinterpret_cast<char*>(reply), sizeof(reply)),
      deadline);
  OPENSSL_cleanse(reply, kHmacSize);  // The challenge is still needed.
  if (!status.ok()) return AtStep(kRole, "sending the client proof", status);

  uint8_t server_proof[kHmacSize];
  status =
      ReadExactly(fd, absl::Span<uint8_t>(server_proof, kHmacSize), deadline);
  if (!status.ok()) return AtStep(kRole, "reading the server proof", status);

  uint8_t expected[kHmacSize];
  status = ComputeProof(
      secret, kServerAuthLabel,
      absl::Span<const uint8_t>(reply + kHmacSize, kChallengeSize), expected);
  if (!status.ok()) return AtStep(kRole, "computing the server proof", status);
  const bool match = CRYPTO_memcmp(expected, server_proof, kHmacSize) == 0;
  OPENSSL_cleanse(expected, sizeof(expected));
  if (!match) {
    return absl::UnauthenticatedError(
        "client handshake failed: server authentication failed");
  }
  return absl::OkStatus();
}

}  // namespace zen::ipc
