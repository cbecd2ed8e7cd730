#include "ipc/crypto.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <limits>

#include "base/fork_guard.h"
#include "base/mutex.h"

namespace zen::ipc {
namespace {

Mutex& CryptoMutex() {
  static Mutex* mu = [] {
    auto* m = new Mutex;  // Never destroyed: used until process exit.
    RegisterForkGuardedMutex(m);
    return m;
  }();
  return *mu;
}

}  // namespace

absl::Status SecureRandomBytes(absl::Span<uint8_t> out) {
  MutexLock lock(&CryptoMutex());
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    return absl::InternalError("RAND_bytes failed");
  }
  return absl::OkStatus();
}

absl::Status HmacSha256(absl::Span<const uint8_t> key,
                        absl::Span<const uint8_t> message,
                        absl::Span<uint8_t> out) {
  if (out.size() != kHmacSha256Size) {
    return absl::InvalidArgumentError("HMAC-SHA256: output is not 32 bytes");
  }
  OPENSSL_cleanse(out.data(), out.size());
  if (key.empty() ||
      key.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return absl::InvalidArgumentError("HMAC-SHA256: unusable key size");
  }
  MutexLock lock(&CryptoMutex());
  const EVP_MD* sha256 = EVP_sha256();
  unsigned int out_len = 0;
  const unsigned char* mac =
      sha256 == nullptr
          ? nullptr
          : HMAC(sha256, key.data(), static_cast<int>(key.size()),
                 message.data(), message.size(), out.data(), &out_len);
  if (mac == nullptr || out_len != kHmacSha256Size) {
    OPENSSL_cleanse(out.data(), out.size());
    ERR_clear_error();
    return absl::InternalError(
        mac == nullptr ? "HMAC-SHA256 failed in OpenSSL"
                       : "HMAC-SHA256: OpenSSL wrote a wrong length");
  }
  return absl::OkStatus();
}

}  // namespace zen::ipc
