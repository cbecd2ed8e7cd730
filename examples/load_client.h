// The self-test's HTTP side: requests to the workers, tallied, from
// background client threads and in bursts.
#ifndef ZEN_EXAMPLES_LOAD_CLIENT_H_
#define ZEN_EXAMPLES_LOAD_CLIENT_H_

#include <httplib.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/mutex.h"

namespace zen::examples {

struct FetchResult {
  int http_status = 0;   // 0: no response (see error).
  pid_t worker_pid = 0;  // From the X-Worker-Pid header; 0 if absent.
  std::string body;
  std::string error;
  absl::Time sent_at;
  absl::Time done_at;
};

// One GET of `path` on `client`, with X-Forwarded-For: `client_ip` when
// that is not empty.
FetchResult Fetch(httplib::Client& client, const std::string& path,
                  absl::string_view client_ip);

// The same on a fresh connection, which the kernel hands to whichever worker
// is waiting in accept(2): repeated, these reach every worker.
FetchResult FetchOnce(uint16_t port, const std::string& path,
                      absl::string_view client_ip);

// Counts of the responses to application requests. Thread-safe.
class Tally {
 public:
  struct Counts {
    uint64_t responses = 0;  // Every HTTP response, whatever its status.
    uint64_t ok = 0;         // 200
    uint64_t forbidden = 0;  // 403
    uint64_t too_many = 0;   // 429
    uint64_t other = 0;      // Any other status.
    uint64_t failed = 0;     // No response at all.
  };

  void Add(const FetchResult& result) ABSL_LOCKS_EXCLUDED(mu_);

  Counts total() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  static void Count(Counts* counts, const FetchResult& result);

  mutable Mutex mu_;
  Counts total_ ABSL_GUARDED_BY(mu_);
};

// One simulated client: requests its paths in turn, from one address.
struct TrafficStream {
  std::string client_ip;
  std::vector<std::string> paths;
  // Requests per connection before a new one (1: a fresh connection each
  // time). Keep-alive saves connections; reconnecting spreads a stream
  // over the workers.
  size_t requests_per_connection = 1;
  // Keep every result (for streams whose answers the test checks in time).
  bool keep_results = false;
  // Between requests (the probes need not hammer the server).
  absl::Duration pause = absl::ZeroDuration();
};

// Runs each stream on a thread of its own until Stop(). Every result goes
// into `tally`, which must outlive this object. Thread-safe.
class Traffic {
 public:
  Traffic(uint16_t port, std::vector<TrafficStream> streams, Tally* tally);
  ~Traffic();  // Stops.
  Traffic(const Traffic&) = delete;
  Traffic& operator=(const Traffic&) = delete;

  void Start();
  // Stops the threads after their current request and joins them.
  void Stop();

  // The kept results of stream `index`, in order.
  std::vector<FetchResult> results(size_t index) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void RunStream(size_t index);

  const uint16_t port_;
  const std::vector<TrafficStream> streams_;
  Tally* const tally_;  // Not owned.
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  mutable Mutex mu_;
  std::vector<std::vector<FetchResult>> results_ ABSL_GUARDED_BY(mu_);
};

// `total` requests of `path` from `client_ip`, each on a fresh connection,
// sent at once from `threads` threads. Results are added to `tally` and
// returned.
std::vector<FetchResult> Burst(uint16_t port, const std::string& path,
                               absl::string_view client_ip, size_t total,
                               size_t threads, Tally* tally);

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_LOAD_CLIENT_H_
