// What every benchmark of bench/ shares: CPU placement, clocks, forked
// clients, results in shared memory, process figures, and one JSON line of
// output per measurement (bench/report.py reads them).
#ifndef ZEN_BENCH_BENCH_UTIL_H_
#define ZEN_BENCH_BENCH_UTIL_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace zen::bench {

// The echo payload: a ~40-byte JSON value, the request every system answers.
inline constexpr char kPayloadJson[] =
    R"({"user":"u-1234","path":"/api/items","n":42})";
inline constexpr char kPayloadUser[] = "u-1234";
inline constexpr char kPayloadPath[] = "/api/items";
inline constexpr int kPayloadN = 42;

// Where the two processes run. kSplit: server on CPU 0, client on CPU 1 (the
// main table). kShared: both on CPU 0 (the second table).
enum class Placement { kSplit, kShared };

inline constexpr int kServerCpu = 0;
inline int ClientCpu(Placement p) { return p == Placement::kSplit ? 1 : 0; }
const char* PlacementName(Placement p);

// Pins the calling thread (and so every thread it starts afterwards) to
// `cpu` with sched_setaffinity. Aborts if the CPU does not exist.
void PinToCpu(int cpu);

// Monotonic clock in nanoseconds (one clock for every process).
int64_t NowNs();

// The p-quantile (0..1) of `values`, nearest rank; sorts a copy.
double Percentile(std::vector<double> values, double p);

// Flags of the form --name=value; Get* return `fallback` when absent.
class Flags {
 public:
  Flags(int argc, char** argv);
  std::string GetString(absl::string_view name, std::string fallback) const;
  int64_t GetInt(absl::string_view name, int64_t fallback) const;
  Placement GetPlacement() const;  // --placement=split|shared, split default.

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

// Memory shared with forked children (MAP_SHARED | MAP_ANONYMOUS), zeroed.
// Made before fork(); each process reads and writes its own slots. Owns the
// mapping in the process that made it; children simply _exit.
template <typename T>
class SharedArray {
 public:
  explicit SharedArray(size_t n);
  ~SharedArray();
  SharedArray(const SharedArray&) = delete;
  SharedArray& operator=(const SharedArray&) = delete;
  T& operator[](size_t i) { return data_[i]; }
  T* data() { return data_; }
  size_t size() const { return size_; }

 private:
  T* data_;
  size_t size_;
};

void* MapShared(size_t bytes);
void UnmapShared(void* p, size_t bytes);

template <typename T>
SharedArray<T>::SharedArray(size_t n)
    : data_(static_cast<T*>(MapShared(n * sizeof(T)))), size_(n) {}
template <typename T>
SharedArray<T>::~SharedArray() {
  UnmapShared(data_, size_ * sizeof(T));
}

// A one-way byte pipe between processes, for start/stop barriers.
class Pipe {
 public:
  Pipe();
  ~Pipe();
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  // Writes `n` bytes (one per waiter).
  void Post(int n = 1);
  // Reads exactly `n` bytes; false on EOF.
  bool Wait(int n = 1);

 private:
  int fds_[2];
};

// Runs `body` in a fork()ed child and _exits with its return value. Returns
// the child's pid to the parent.
pid_t ForkChild(const std::function<int()>& body);

// Waits for `pid`; true if it exited with status 0.
bool Reap(pid_t pid);

// This process's resident set (VmRSS) in KiB and thread count, from
// /proc/self/status.
int64_t RssKiB();
int64_t ThreadCount();

// User + system CPU seconds of this whole process (every thread).
double ProcessCpuSeconds();

// A request / response framed exactly as this library puts them on the wire
// for the echo call (4-byte big-endian length, then the JSON body). The id
// has a fixed width, so a raw server can copy it from request to response.
std::string EchoRequestBody(absl::string_view id);
std::string EchoResponseBody(absl::string_view id);
std::string Framed(absl::string_view body);
// The id of a raw call: the library's shape (16 hex digits, '-', counter)
// with the counter `slot` zero-padded to 6 digits.
std::string RawCallId(int slot);

// The figures of one echo measurement, written by the client into shared
// memory.
struct EchoFigures {
  double p50_us = 0;
  double p99_us = 0;
  double mean_us = 0;
  double calls_per_s = 0;     // Sequential.
  double mt_calls_per_s = 0;  // `threads` callers sharing one connection.
  int64_t errors = 0;
  int64_t seq_calls = 0;
  int64_t mt_calls = 0;
  // Heap allocations per sequential timed call, each process's own
  // (bench/allocation_counter.h); -1 where the binary does not count.
  double client_allocs_per_call = -1;
  double server_allocs_per_call = -1;
};

// The sequential part of an echo measurement, on the calling thread:
// `warmup` calls, then `calls` timed calls (the latency of each). `call`
// returns false on error.
EchoFigures RunSequential(const std::function<bool()>& call, int warmup,
                          int calls);

// The concurrent part: `threads` threads make `mt_calls` calls in all, at
// once, through `call(t)` (called from thread t only). Each thread warms up
// with `warmup / threads` calls first; the clock runs from their common
// start to the last one's end. Fills f->mt_calls_per_s and f->mt_calls and
// adds to f->errors.
void RunThreaded(const std::function<bool(int thread)>& call, int threads,
                 int mt_calls, int warmup, EchoFigures* f);

// One line of JSON on stdout: {"bench":..., key: value, ...}.
class JsonLine {
 public:
  explicit JsonLine(absl::string_view bench);
  JsonLine& Add(absl::string_view key, absl::string_view value);
  JsonLine& Add(absl::string_view key, const char* value) {
    return Add(key, absl::string_view(value));
  }
  JsonLine& Add(absl::string_view key, double value);
  JsonLine& Add(absl::string_view key, int64_t value);
  JsonLine& Add(absl::string_view key, int value) {
    return Add(key, static_cast<int64_t>(value));
  }
  JsonLine& AddEcho(const EchoFigures& f);
  void Print();

 private:
  std::string text_;
};

}  // namespace zen::bench

#endif  // ZEN_BENCH_BENCH_UTIL_H_
