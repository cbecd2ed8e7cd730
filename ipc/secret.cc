#include "ipc/secret.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "ipc/crypto.h"

namespace zen::ipc {
namespace {

size_t PageSize() { return static_cast<size_t>(::sysconf(_SC_PAGESIZE)); }

// Keeps the page out of swap where RLIMIT_MEMLOCK (or CAP_IPC_LOCK) allows.
// Before any key byte is written, so the key never reaches swap. Failing is
// tolerated: the key is as safe as any other memory of the process, swap
// aside, and a host in a container with no memlock allowance must still
// work. It is said once per process, not per secret. munmap unlocks.
void LockPage(void* p) {
  if (::mlock(p, PageSize()) == 0) return;
  const int error = errno;
  static std::atomic<bool> warned{false};
  if (!warned.exchange(true)) {
    LogWarning("secret: mlock failed (", std::strerror(error),
               "; RLIMIT_MEMLOCK too low?): the key's page may be swapped out");
  }
}

// A fresh anonymous page, locked in memory if allowed, left out of core
// dumps. Not MADV_WIPEONFORK: the
// whole point is that children inherit it.
absl::StatusOr<uint8_t*> AllocatePage() {
  void* p = ::mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return absl::InternalError("secret: mmap failed");
  if (::madvise(p, PageSize(), MADV_DONTDUMP) != 0) {
    ::munmap(p, PageSize());
    return absl::InternalError("secret: madvise(MADV_DONTDUMP) failed");
  }
  LockPage(p);
  return static_cast<uint8_t*>(p);
}

}  // namespace

absl::StatusOr<Secret> Secret::Generate() {
  ZEN_ASSIGN_OR_RETURN(uint8_t * page, AllocatePage());
  Secret secret(page);
  ZEN_RETURN_IF_ERROR(SecureRandomBytes(absl::Span<uint8_t>(page, kSize)));
  return secret;
}

absl::StatusOr<Secret> Secret::FromBytes(absl::Span<const uint8_t> key) {
  if (key.size() != kSize) {
    return absl::InvalidArgumentError("secret: key must be 32 bytes");
  }
  ZEN_ASSIGN_OR_RETURN(uint8_t * page, AllocatePage());
  std::memcpy(page, key.data(), kSize);
  return Secret(page);
}

Secret::~Secret() { Wipe(); }

Secret::Secret(Secret&& other) noexcept
    : page_(std::exchange(other.page_, nullptr)) {}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    Wipe();
    page_ = std::exchange(other.page_, nullptr);
  }
  return *this;
}

absl::StatusOr<Secret> Secret::Clone() const {
  if (empty()) return Secret();
  return FromBytes(key());
}

absl::Span<const uint8_t> Secret::key() const {
  if (page_ == nullptr) return {};
  return absl::Span<const uint8_t>(page_, kSize);
}

void Secret::Wipe() {
  if (page_ == nullptr) return;
  OPENSSL_cleanse(page_, kSize);
  ::munmap(page_, PageSize());
  page_ = nullptr;
}

}  // namespace zen::ipc
