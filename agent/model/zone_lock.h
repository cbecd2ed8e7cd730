// A lock word in memory shared by forked processes that a SIGKILLed holder
// cannot leave held, and that a hostile process cannot turn into a hang or
// a stray write in another.
//
// Why not a robust pthread mutex: glibc links a held robust mutex into the
// holder's robust list through pointers kept in the mutex itself, and
// follows them on unlock. In memory every worker may write, a worker that
// rewrites those pointers while the parent holds the mutex makes the parent
// write where the worker chose. This lock keeps nothing but an owner id in
// shared memory:
//
// * the word is 0 when free, else the holder's process id (high 32 bits)
//   and the low 32 bits of its start time (/proc/<pid>/stat field 22), so
//   a reused pid is not taken for the dead holder;
// * a waiter spins briefly, yields, then sleeps (20 µs doubling to 0.5 ms,
//   so a preempted holder gets a CPU); about every millisecond it asks
//   the kernel whether the holder still lives (gone, a zombie, or another
//   process under a reused pid all count as dead) and, if not, takes the
//   word over with a compare-and-swap and reports it, so the caller
//   repairs what the dead holder may have left half-written;
// * every wait ends by a deadline: a holder that lives but never lets go
//   (a stopped or hostile process) costs waiters `timeout`, never a hang.
//
// The fast path (a free word) is one compare-and-swap: no syscall. A
// process learns its own id once, and again after fork (a page the kernel
// wipes in the child tells it that it was forked).
#ifndef ZEN_AGENT_MODEL_ZONE_LOCK_H_
#define ZEN_AGENT_MODEL_ZONE_LOCK_H_

#include <cstdint>

#include "absl/time/time.h"

namespace zen {

// This process's owner id as a lock word holds it (never 0).
uint64_t ZoneLockOwnerId();

// Whether the process that `owner` names is gone (exited, a zombie, or its
// pid now names a process started at another time). A syscall or three.
bool ZoneLockOwnerIsDead(uint64_t owner);

enum class ZoneLockResult {
  kAcquired,          // the word was free (or held by us and released)
  kAcquiredFromDead,  // taken over from a dead holder: repair before use
  kTimedOut,          // held by a live process until the deadline
};

// Takes the lock in `*word` (shared memory, 8-byte aligned), waiting at
// most `timeout`. Any value in the word is handled; no memory but the word
// is touched. Thread-safe; not reentrant.
ZoneLockResult AcquireZoneLock(uint64_t* word, absl::Duration timeout);

// Releases a lock this process took. If the word no longer holds our id
// (another process wrote it), leaves it alone.
void ReleaseZoneLock(uint64_t* word);

}  // namespace zen

#endif  // ZEN_AGENT_MODEL_ZONE_LOCK_H_
