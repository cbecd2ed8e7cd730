// The churn attack (docs/security.md, "Churn"): processes that open connections
// as fast as they are told, never speak, and close each after a hold time,
// while an honest client connects and calls `echo` at a steady pace. Used
// by tests/hostile:churn_test (correctness only) and by the churn_bench
// binary (the figures in docs/security.md).
#ifndef ZEN_TESTS_HOSTILE_CHURN_H_
#define ZEN_TESTS_HOSTILE_CHURN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ipc/connector.h"
#include "ipc/secret.h"
#include "testing/forked_child.h"

namespace zen::hostile {

// The uid churners switch to when asked to be another user ("nobody").
inline constexpr uid_t kOtherUid = 65534;

// Whether a forked child of this process can setresuid(kOtherUid): true as
// root outside a user namespace that maps only uid 0 (Bazel's sandbox maps
// only 0, so tests that need it run unsandboxed: tags = ["exclusive"]).
bool CanSwitchUid();

// Becomes kOtherUid in the calling (forked) process. With
// `keep_root_fsuid`, the filesystem uid stays 0, so the process still
// passes the 0700 directory of a Unix listener (as if its permissions had
// been opened, or the socket were in the abstract namespace) while
// SO_PEERCRED reports kOtherUid; TCP sockets record the filesystem uid, so
// TCP churners switch all of their uids. Errors if the kernel refuses.
absl::Status BecomeOtherUid(bool keep_root_fsuid);

struct ChurnOptions {
  int processes = 4;
  // Connections opened per second, summed over the processes.
  double connections_per_second = 2000;
  // Each connection is closed this long after it was opened.
  absl::Duration hold = absl::Milliseconds(100);
  // Churners switch to kOtherUid (BecomeOtherUid) before the first connect.
  bool other_uid = false;
};

// Counters the churners share with the test (a MAP_SHARED page).
struct ChurnCounters {
  uint64_t opened = 0;  // connect(2) started or completed.
  uint64_t failed = 0;  // socket(2) or connect(2) failed at once.
};

// Forked churner processes against `target`, running from Start until
// Stop (or the destructor), which kills (SIGKILL) and reaps them. Not
// thread-safe.
class Churn {
 public:
  static absl::StatusOr<Churn> Start(const ipc::ConnectorOptions& target,
                                     const ChurnOptions& options);
  Churn(Churn&& other) noexcept;
  Churn& operator=(Churn&&) = delete;
  ~Churn();

  // Stops every churner; an error if one had failed on its own (its text),
  // for example because it could not switch uid.
  absl::Status Stop();
  ChurnCounters counters() const;

 private:
  Churn() = default;
  std::vector<testing::ForkedChild> children_;
  ChurnCounters* shared_ = nullptr;  // Owned: one mmap'd page per process.
};

// What the honest client saw.
struct ProbeResult {
  int attempts = 0;
  int successes = 0;  // Connected, authenticated, `echo` answered.
  std::vector<absl::Duration> connect_latencies;  // Of successful connects.
  std::string first_error;

  double success_rate() const {
    return attempts == 0 ? 0 : static_cast<double>(successes) / attempts;
  }
  // The q-quantile (0..1) of the connect latencies; zero if none.
  absl::Duration ConnectQuantile(double q) const;
  // "attempts N, success S%, connect p50 X ms p99 Y ms".
  std::string Summary() const;
};

// Every `interval` for `duration`: a fresh rpc::Channel to `target` (TCP or
// Unix connect, then the handshake: the connect latency), one `echo` call
// (deadline 2 s), then close. Runs on the calling thread.
ProbeResult ProbeHonestClient(const ipc::Secret& secret,
                              const ipc::ConnectorOptions& target,
                              absl::Duration duration,
                              absl::Duration interval = absl::Milliseconds(50));

}  // namespace zen::hostile

#endif  // ZEN_TESTS_HOSTILE_CHURN_H_
