// Secret: the 32-byte key that proves a process is a forked child.
#ifndef ZEN_IPC_SECRET_H_
#define ZEN_IPC_SECRET_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace zen::ipc {

// The shared key of the handshake: 32 random bytes made once in the parent,
// reaching children only through fork().
//
// The bytes live in a page of their own that is excluded from core dumps
// (MADV_DONTDUMP), locked in memory (mlock, so never written to swap) where
// RLIMIT_MEMLOCK or CAP_IPC_LOCK allows it (else one warning is logged per
// process and the secret works unlocked), and wiped with OPENSSL_cleanse
// before it is unmapped. A forked child does not inherit the lock (mlock(2));
// it shares the parent's locked physical page until either writes it, which
// neither does. They
// are never in an environment variable, argument, file or log line: the type
// has no printer and no implicit copy. Move-only; a moved-from Secret holds
// no key and `empty()` is true. Clone() is the one explicit copy.
//
// Thread-safe for concurrent const use.
class Secret {
 public:
  static constexpr size_t kSize = 32;

  // Makes a new random secret from OpenSSL's CSPRNG. Fails (kInternal) only
  // if the CSPRNG or mmap fails.
  static absl::StatusOr<Secret> Generate();

  // Builds a secret from given key bytes (for tests and for rpc_cli, which
  // reads a key on stdin). `key` must be kSize bytes (else
  // kInvalidArgument); the caller should wipe its own copy.
  static absl::StatusOr<Secret> FromBytes(absl::Span<const uint8_t> key);

  Secret() = default;  // Empty: holds no key.
  ~Secret();
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;

  // An independent copy with its own protected page.
  absl::StatusOr<Secret> Clone() const;

  bool empty() const { return page_ == nullptr; }

  // The key bytes, valid while this Secret lives and is not moved from.
  // Empty span if empty().
  absl::Span<const uint8_t> key() const;

 private:
  explicit Secret(uint8_t* page) : page_(page) {}
  void Wipe();

  uint8_t* page_ =
      nullptr;  // Owned mmap'd page; the key is its first kSize bytes.
};

}  // namespace zen::ipc

#endif  // ZEN_IPC_SECRET_H_
