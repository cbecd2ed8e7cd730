// Fork-safe access to OpenSSL.
//
// OpenSSL 3.0 takes internal locks (its DRBG, its provider store) and no
// longer resets them in a forked child: a child forked while another thread
// was inside RAND_bytes or HMAC deadlocks on its first use of OpenSSL. Every
// OpenSSL call of the library goes through these functions, which hold one
// fork-guarded mutex (base/fork_guard.h), so fork() never lands in the
// middle of one.
#ifndef ZEN_IPC_CRYPTO_H_
#define ZEN_IPC_CRYPTO_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace zen::ipc {

// Fills `out` from OpenSSL's CSPRNG. kInternal if it fails.
absl::Status SecureRandomBytes(absl::Span<uint8_t> out);

inline constexpr size_t kHmacSha256Size = 32;

// HMAC-SHA256(key, message) into `out`. Fails closed: `out` is zeroed before
// OpenSSL is called and zeroed again on any failure, so a caller that
// ignored the status would still never hold stale bytes as a MAC.
// kInvalidArgument if `out` is not kHmacSha256Size bytes, or `key` is empty
// or longer than OpenSSL takes (INT_MAX); kInternal if OpenSSL fails or
// writes another length (OpenSSL's error queue is cleared then).
absl::Status HmacSha256(absl::Span<const uint8_t> key,
                        absl::Span<const uint8_t> message,
                        absl::Span<uint8_t> out);

}  // namespace zen::ipc

#endif  // ZEN_IPC_CRYPTO_H_
