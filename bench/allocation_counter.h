// Counts this program's heap allocations, per process, for the benchmarks'
// "allocations per call" figures.
//
// Linking :allocation_counter replaces malloc and its family (glibc supports
// this) with wrappers that count one allocation per malloc, calloc, realloc
// and aligned allocation, then call glibc's own. operator new allocates with
// malloc, so C++ allocations are counted too; so are those of the libraries
// (OpenSSL, protobuf, simdjson).
//
// The counts live in memory shared across fork(): a benchmark's client can
// read its server's count at the start and end of its timed calls.
#ifndef ZEN_BENCH_ALLOCATION_COUNTER_H_
#define ZEN_BENCH_ALLOCATION_COUNTER_H_

#include <cstdint>

namespace zen::bench {

// Which count a process adds to.
enum class CountingProcess { kServer = 0, kClient = 1 };

// Moves the counts to memory that processes forked from now on share. Call
// once, before the first fork; until then, and without it, counting is
// per process.
void ShareAllocationCounts();

// Call in a forked child first thing: its allocations count as the client's.
void CountAllocationsAs(CountingProcess process);

// Allocations counted for `process` so far.
uint64_t AllocationCount(CountingProcess process);

}  // namespace zen::bench

#endif  // ZEN_BENCH_ALLOCATION_COUNTER_H_
