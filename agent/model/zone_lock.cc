#include "agent/model/zone_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>

namespace zen {
namespace {

// Spins before the first yield: a holder on another CPU is done within a
// few hundred nanoseconds.
constexpr int kSpinsBeforeYield = 64;
// Yields before a waiter sleeps instead: sleeping waiters leave the run
// queue, so a holder preempted among many runnable workers (64 on 2 CPUs)
// runs again sooner than if every waiter kept yielding to every other.
constexpr int kYieldsBeforeSleep = 16;
constexpr int64_t kFirstSleepNs = 20000;               // 20 µs, doubling
constexpr int64_t kLongestSleepNs = 500000;            // 0.5 ms
constexpr int64_t kLivenessCheckIntervalNs = 1000000;  // 1 ms

int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

struct ProcStat {
  bool readable = false;  // /proc/<pid>/stat was read and parsed
  bool exists = false;    // it was there at all
  char state = 0;
  uint64_t start_time = 0;
};

// Reads the state (field 3) and start time (field 22) of `pid`. The
// command name (field 2) may hold spaces and parentheses: fields are
// counted from the last ')'.
ProcStat ReadProcStat(int pid) {
  ProcStat stat;
  char path[48];
  std::snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    stat.exists = errno != ENOENT && errno != ESRCH;
    return stat;
  }
  stat.exists = true;
  char buffer[1024];
  ssize_t got;
  do {
    got = read(fd, buffer, sizeof(buffer) - 1);
  } while (got < 0 && errno == EINTR);
  close(fd);
  if (got <= 0) return stat;
  buffer[got] = '\0';
  const char* p = std::strrchr(buffer, ')');
  if (p == nullptr || p[1] != ' ' || p[2] == '\0') return stat;
  stat.state = p[2];
  // After ") S " come fields 4.. ; start time is field 22.
  p += 4;
  for (int field = 4; field < 22; ++field) {
    p = std::strchr(p, ' ');
    if (p == nullptr) return stat;
    ++p;
  }
  char* end = nullptr;
  stat.start_time = std::strtoull(p, &end, 10);
  stat.readable = end != p;
  return stat;
}

uint64_t MakeOwnerId(int pid, uint64_t start_time) {
  // Nonzero for any real pid, whatever the start time.
  return (uint64_t{static_cast<uint32_t>(pid)} << 32) |
         static_cast<uint32_t>(start_time);
}

// The cached id lives in a private page the kernel zeroes in a forked
// child (MADV_WIPEONFORK), so a child recomputes its own. Where the kernel
// lacks it, the pid is checked against getpid() on every use instead.
struct IdentityPage {
  std::atomic<uint64_t> owner_id;
  std::atomic<int> pid;
};

IdentityPage* MapIdentityPage(bool* wipes_on_fork) {
  void* page = mmap(nullptr, static_cast<size_t>(sysconf(_SC_PAGESIZE)),
                    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return nullptr;
  *wipes_on_fork = madvise(page, static_cast<size_t>(sysconf(_SC_PAGESIZE)),
                           MADV_WIPEONFORK) == 0;
  return new (page) IdentityPage{};
}

uint64_t ComputeOwnerId(int pid) {
  const ProcStat stat = ReadProcStat(pid);
  uint64_t id = MakeOwnerId(pid, stat.readable ? stat.start_time : 0);
  // pid 0 cannot happen for a process; keep the word nonzero regardless.
  return id == 0 ? 1 : id;
}

}  // namespace

uint64_t ZoneLockOwnerId() {
  static bool wipes_on_fork = false;
  static IdentityPage* const page = MapIdentityPage(&wipes_on_fork);
  if (page == nullptr) return ComputeOwnerId(getpid());
  uint64_t id = page->owner_id.load(std::memory_order_acquire);
  if (id != 0 && wipes_on_fork) return id;
  const int pid = getpid();
  if (id != 0 && page->pid.load(std::memory_order_relaxed) == pid) return id;
  id = ComputeOwnerId(pid);
  page->pid.store(pid, std::memory_order_relaxed);
  page->owner_id.store(id, std::memory_order_release);
  return id;
}

bool ZoneLockOwnerIsDead(uint64_t owner) {
  if (owner == ZoneLockOwnerId()) return false;  // another of our threads
  const int pid = static_cast<int>(owner >> 32);
  if (pid <= 0) return true;  // no process has such an id
  const ProcStat stat = ReadProcStat(pid);
  if (stat.readable) {
    if (stat.state == 'Z' || stat.state == 'X') return true;
    return static_cast<uint32_t>(stat.start_time) !=
           static_cast<uint32_t>(owner);
  }
  // No /proc to read (not mounted, or hidden): only the kernel's own
  // answer counts; a process we may not signal is alive.
  if (stat.exists) return false;
  return kill(pid, 0) != 0 && errno == ESRCH;
}

ZoneLockResult AcquireZoneLock(uint64_t* word, absl::Duration timeout) {
  const uint64_t me = ZoneLockOwnerId();
  uint64_t expected = 0;
  if (__atomic_compare_exchange_n(word, &expected, me, /*weak=*/false,
                                  __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
    return ZoneLockResult::kAcquired;
  }
  const int64_t start = MonotonicNanos();
  const int64_t deadline = start + absl::ToInt64Nanoseconds(timeout);
  int64_t next_liveness_check = start + kLivenessCheckIntervalNs;
  for (int round = 0;; ++round) {
    expected = __atomic_load_n(word, __ATOMIC_RELAXED);
    if (expected == 0) {
      if (__atomic_compare_exchange_n(word, &expected, me, false,
                                      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        return ZoneLockResult::kAcquired;
      }
      continue;
    }
    if (round < kSpinsBeforeYield) {
      CpuRelax();
      continue;
    }
    const int waits = round - kSpinsBeforeYield;
    if (waits < kYieldsBeforeSleep) {
      sched_yield();
    } else {
      const int doublings = std::min(waits - kYieldsBeforeSleep, 5);
      const timespec pause{
          0, static_cast<long>(std::min(kFirstSleepNs << doublings,  // NOLINT
                                        kLongestSleepNs))};
      nanosleep(&pause, nullptr);
    }
    const int64_t now = MonotonicNanos();
    if (now >= next_liveness_check) {
      next_liveness_check = now + kLivenessCheckIntervalNs;
      if (ZoneLockOwnerIsDead(expected) &&
          __atomic_compare_exchange_n(word, &expected, me, false,
                                      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        return ZoneLockResult::kAcquiredFromDead;
      }
    }
    if (now >= deadline) return ZoneLockResult::kTimedOut;
  }
}

void ReleaseZoneLock(uint64_t* word) {
  uint64_t expected = ZoneLockOwnerId();
  __atomic_compare_exchange_n(word, &expected, 0, false, __ATOMIC_RELEASE,
                              __ATOMIC_RELAXED);
}

}  // namespace zen
