#include "bench/bench_util.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "bench/allocation_counter.h"

namespace zen::bench {

const char* PlacementName(Placement p) {
  return p == Placement::kSplit ? "split" : "shared";
}

void PinToCpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof(set), &set) != 0) {
    std::fprintf(stderr, "sched_setaffinity(cpu %d): %s\n", cpu,
                 std::strerror(errno));
    std::abort();
  }
}

int64_t NowNs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(p * values.size());
  return values[std::min(values.size() - 1, rank)];
}

Flags::Flags(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (!absl::ConsumePrefix(&arg, "--")) continue;
    const size_t eq = arg.find('=');
    if (eq == absl::string_view::npos) {
      values_.emplace_back(std::string(arg), "true");
    } else {
      values_.emplace_back(std::string(arg.substr(0, eq)),
                           std::string(arg.substr(eq + 1)));
    }
  }
}

std::string Flags::GetString(absl::string_view name,
                             std::string fallback) const {
  for (const auto& [key, value] : values_) {
    if (key == name) return value;
  }
  return fallback;
}

int64_t Flags::GetInt(absl::string_view name, int64_t fallback) const {
  const std::string text = GetString(name, "");
  int64_t value;
  if (text.empty() || !absl::SimpleAtoi(text, &value)) return fallback;
  return value;
}

Placement Flags::GetPlacement() const {
  return GetString("placement", "split") == "shared" ? Placement::kShared
                                                     : Placement::kSplit;
}

void* MapShared(size_t bytes) {
  void* p = ::mmap(nullptr, std::max<size_t>(bytes, 1), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) std::abort();
  return p;
}

void UnmapShared(void* p, size_t bytes) {
  ::munmap(p, std::max<size_t>(bytes, 1));
}

Pipe::Pipe() {
  if (::pipe2(fds_, O_CLOEXEC) != 0) std::abort();
}

Pipe::~Pipe() {
  ::close(fds_[0]);
  ::close(fds_[1]);
}

void Pipe::Post(int n) {
  std::string bytes(static_cast<size_t>(n), 'x');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w =
        ::write(fds_[1], bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) std::abort();
    done += static_cast<size_t>(w);
  }
}

bool Pipe::Wait(int n) {
  char buf[256];
  while (n > 0) {
    const ssize_t r = ::read(
        fds_[0], buf, std::min<size_t>(sizeof(buf), static_cast<size_t>(n)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    n -= static_cast<int>(r);
  }
  return true;
}

pid_t ForkChild(const std::function<int()>& body) {
  static const bool shared = (ShareAllocationCounts(), true);
  (void)shared;
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    CountAllocationsAs(CountingProcess::kClient);
    ::_exit(body());
  }
  return pid;
}

bool Reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

namespace {

int64_t StatusField(absl::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, field) ||
        !absl::ConsumePrefix(&rest, ":")) {
      continue;
    }
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, " kB");
    int64_t value = 0;
    if (absl::SimpleAtoi(rest, &value)) return value;
  }
  return -1;
}

}  // namespace

int64_t RssKiB() { return StatusField("VmRSS"); }
int64_t ThreadCount() { return StatusField("Threads"); }

double ProcessCpuSeconds() {
  // Exact (the sum of every thread's runtime), unlike getrusage's ticks.
  timespec ts;
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

std::string EchoRequestBody(absl::string_view id) {
  return absl::StrCat("[\"", id, "\",\"echo\",[],", kPayloadJson, "]");
}

std::string EchoResponseBody(absl::string_view id) {
  return absl::StrCat("[\"", id, "\",", kPayloadJson, ",null]");
}

std::string Framed(absl::string_view body) {
  const uint32_t n = static_cast<uint32_t>(body.size());
  std::string out;
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  out.append(body.data(), body.size());
  return out;
}

std::string RawCallId(int slot) {
  return absl::StrFormat("0123456789abcdef-%06d", slot);
}

EchoFigures RunSequential(const std::function<bool()>& call, int warmup,
                          int calls) {
  EchoFigures f;
  for (int i = 0; i < warmup; ++i) {
    if (!call()) ++f.errors;
  }
  std::vector<double> latency_us;
  latency_us.reserve(static_cast<size_t>(calls));
  const uint64_t client_allocs = AllocationCount(CountingProcess::kClient);
  const uint64_t server_allocs = AllocationCount(CountingProcess::kServer);
  const int64_t start = NowNs();
  for (int i = 0; i < calls; ++i) {
    const int64_t t = NowNs();
    if (!call()) ++f.errors;
    latency_us.push_back((NowNs() - t) * 1e-3);
  }
  const int64_t end = NowNs();
  if (calls > 0) {
    f.client_allocs_per_call =
        double(AllocationCount(CountingProcess::kClient) - client_allocs) /
        calls;
    f.server_allocs_per_call =
        double(AllocationCount(CountingProcess::kServer) - server_allocs) /
        calls;
  }
  f.seq_calls = calls;
  f.calls_per_s = calls / ((end - start) * 1e-9);
  f.p50_us = Percentile(latency_us, 0.50);
  f.p99_us = Percentile(latency_us, 0.99);
  double sum = 0;
  for (double v : latency_us) sum += v;
  f.mean_us = calls > 0 ? sum / calls : 0;
  return f;
}

void RunThreaded(const std::function<bool(int thread)>& call, int threads,
                 int mt_calls, int warmup, EchoFigures* f) {
  const int per_thread = mt_calls / threads;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<int64_t> errors{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < std::max(1, warmup / threads); ++i) {
        if (!call(t)) errors.fetch_add(1);
      }
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (int i = 0; i < per_thread; ++i) {
        if (!call(t)) errors.fetch_add(1);
      }
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  const int64_t start = NowNs();
  go.store(true, std::memory_order_release);
  for (auto& c : callers) c.join();
  const int64_t end = NowNs();
  f->mt_calls = int64_t{per_thread} * threads;
  f->mt_calls_per_s = f->mt_calls / ((end - start) * 1e-9);
  f->errors += errors.load();
}

JsonLine::JsonLine(absl::string_view bench) {
  text_ = absl::StrCat("{\"bench\":\"", bench, "\"");
}

JsonLine& JsonLine::Add(absl::string_view key, absl::string_view value) {
  absl::StrAppend(&text_, ",\"", key, "\":\"", value, "\"");
  return *this;
}

JsonLine& JsonLine::Add(absl::string_view key, double value) {
  absl::StrAppend(&text_, ",\"", key, "\":", absl::StrFormat("%.6g", value));
  return *this;
}

JsonLine& JsonLine::Add(absl::string_view key, int64_t value) {
  absl::StrAppend(&text_, ",\"", key, "\":", value);
  return *this;
}

JsonLine& JsonLine::AddEcho(const EchoFigures& f) {
  return Add("p50_us", f.p50_us)
      .Add("p99_us", f.p99_us)
      .Add("mean_us", f.mean_us)
      .Add("calls_per_s", f.calls_per_s)
      .Add("mt_calls_per_s", f.mt_calls_per_s)
      .Add("errors", f.errors)
      .Add("seq_calls", f.seq_calls)
      .Add("mt_calls", f.mt_calls)
      .Add("client_allocs_per_call", f.client_allocs_per_call)
      .Add("server_allocs_per_call", f.server_allocs_per_call);
}

void JsonLine::Print() {
  std::printf("%s}\n", text_.c_str());
  std::fflush(stdout);
}

}  // namespace zen::bench
