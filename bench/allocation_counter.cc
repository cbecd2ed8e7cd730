#include "bench/allocation_counter.h"

#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <new>

// glibc's own allocator, under the names it exports for replacements.
extern "C" {
void* __libc_malloc(size_t size);
void __libc_free(void* ptr);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* ptr, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void* __libc_valloc(size_t size);
void* __libc_pvalloc(size_t size);
}

namespace zen::bench {
namespace {

using Counts = std::atomic<uint64_t>[2];

// Before ShareAllocationCounts (static initializers allocate too).
Counts local_counts{};
std::atomic<uint64_t>* counts = local_counts;
int slot = static_cast<int>(CountingProcess::kServer);

inline void CountOne() { counts[slot].fetch_add(1, std::memory_order_relaxed); }

}  // namespace

void ShareAllocationCounts() {
  void* page = ::mmap(nullptr, sizeof(Counts), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) std::abort();
  auto* shared = static_cast<std::atomic<uint64_t>*>(page);
  for (int i = 0; i < 2; ++i) {
    new (&shared[i]) std::atomic<uint64_t>(local_counts[i].load());
  }
  counts = shared;
}

void CountAllocationsAs(CountingProcess process) {
  slot = static_cast<int>(process);
}

uint64_t AllocationCount(CountingProcess process) {
  return counts[static_cast<int>(process)].load(std::memory_order_relaxed);
}

}  // namespace zen::bench

extern "C" {

void* malloc(size_t size) {
  zen::bench::CountOne();
  return __libc_malloc(size);
}

void free(void* ptr) { __libc_free(ptr); }

void* calloc(size_t count, size_t size) {
  zen::bench::CountOne();
  return __libc_calloc(count, size);
}

void* realloc(void* ptr, size_t size) {
  zen::bench::CountOne();
  return __libc_realloc(ptr, size);
}

void* memalign(size_t alignment, size_t size) {
  zen::bench::CountOne();
  return __libc_memalign(alignment, size);
}

void* aligned_alloc(size_t alignment, size_t size) {
  zen::bench::CountOne();
  return __libc_memalign(alignment, size);
}

int posix_memalign(void** out, size_t alignment, size_t size) {
  zen::bench::CountOne();
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr && size != 0) return ENOMEM;
  *out = p;
  return 0;
}

void* valloc(size_t size) {
  zen::bench::CountOne();
  return __libc_valloc(size);
}

void* pvalloc(size_t size) {
  zen::bench::CountOne();
  return __libc_pvalloc(size);
}

}  // extern "C"
