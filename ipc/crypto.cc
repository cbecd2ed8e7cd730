#include "ipc/crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

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

void HmacSha256(absl::Span<const uint8_t> key,
                absl::Span<const uint8_t> message, uint8_t out[32]) {
  MutexLock lock(&CryptoMutex());
  unsigned int out_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data(),
       message.size(), out, &out_len);
}

}  // namespace zen::ipc
