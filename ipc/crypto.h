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

// HMAC-SHA256(key, message) into `out` (32 bytes).
void HmacSha256(absl::Span<const uint8_t> key,
                absl::Span<const uint8_t> message, uint8_t out[32]);

}  // namespace zen::ipc

#endif  // ZEN_IPC_CRYPTO_H_
