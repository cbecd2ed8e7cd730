// The mutual HMAC-SHA256 challenge-response that opens every connection.
//
// Byte-exact with the reference agent (docs/protocol.md, "Handshake"):
//   1. server → client: 32 random bytes (server challenge);
//   2. client → server: HMAC-SHA256(secret, "CLIENT-AUTH" ‖ server challenge)
//      then 32 random bytes (client challenge), in one write;
//   3. the server checks the HMAC in constant time; on mismatch it closes
//      and sends nothing;
//   4. server → client: HMAC-SHA256(secret, "SERVER-AUTH" ‖ client challenge);
//   5. the client checks it in constant time.
// Reads ask for exactly the bytes of the step, never more, so a client may
// pipeline its first frame behind its 64 handshake bytes.
#ifndef ZEN_IPC_HANDSHAKE_H_
#define ZEN_IPC_HANDSHAKE_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ipc/secret.h"

namespace zen::ipc {

inline constexpr size_t kChallengeSize = 32;
inline constexpr size_t kHmacSize = 32;
inline constexpr char kClientAuthLabel[] = "CLIENT-AUTH";
inline constexpr char kServerAuthLabel[] = "SERVER-AUTH";

// The longest label ComputeProof takes (both labels are 11 bytes).
inline constexpr size_t kMaxLabelSize = 16;

// HMAC-SHA256(key, label ‖ challenge) into `out`. Fails closed, `out` then
// all zeros: kInvalidArgument unless `secret` holds a key of Secret::kSize
// bytes, `label` is non-null and at most kMaxLabelSize bytes, `challenge` is
// kChallengeSize bytes and `out` kHmacSize bytes; kInternal if OpenSSL fails.
absl::Status ComputeProof(const Secret& secret, const char* label,
                          absl::Span<const uint8_t> challenge,
                          absl::Span<uint8_t> out);

// Runs the server's side on a connected socket; one `deadline` covers every
// step. Errors name the step and never carry key or HMAC bytes:
// kUnauthenticated on a wrong client proof, kDeadlineExceeded, kUnavailable
// if the peer closed; kInvalidArgument, before any byte is exchanged, if
// `secret` holds no 32-byte key; kInternal if OpenSSL fails (randomness or
// HMAC), in which case nothing derived from the failed step is sent. The
// caller closes the socket on failure.
absl::Status ServerHandshake(int fd, const Secret& secret, absl::Time deadline);

// Runs the client's side. kUnauthenticated ("server authentication failed")
// on a wrong server proof; a server that rejected us closes the socket, which
// shows as kUnavailable ("connection closed"), as with the reference. Fails
// closed like ServerHandshake: no key or a failed HMAC refuses the
// connection without sending a proof.
absl::Status ClientHandshake(int fd, const Secret& secret, absl::Time deadline);

}  // namespace zen::ipc

#endif  // ZEN_IPC_HANDSHAKE_H_
