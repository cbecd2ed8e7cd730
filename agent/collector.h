// The parent's statistics: folds the events every worker sends
// (`send_collector_events`) into the totals a heartbeat reports.
//
// Memory is bounded: every keyed collection (routes, users, outbound hosts,
// sinks, attack kinds, user-agent keys, IP-list keys) has a cap; when a new
// key arrives at a full collection, the entry seen least recently is dropped
// and counted in CollectorStats::dropped. Plain counters are never capped.
#ifndef ZEN_AGENT_COLLECTOR_H_
#define ZEN_AGENT_COLLECTOR_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "agent/collector_event.h"
#include "base/clock.h"
#include "base/mutex.h"

namespace zen {

struct CollectorOptions {
  size_t max_routes = 5000;
  size_t max_users = 2000;
  size_t max_hosts = 5000;
  size_t max_sinks = 1000;
  size_t max_attack_kinds = 100;
  size_t max_user_agents = 1000;
  size_t max_ip_lists = 1000;
  // Stamps the start and end of each statistics period. Called without the
  // collector's lock, from whichever thread constructs, snapshots or
  // flushes, so it must be thread-safe.
  std::function<absl::Time()> clock = [] { return zen::Now(); };
};

// One statistics period. Keyed collections are listed from the most to the
// least recently seen entry.
struct CollectorStats {
  struct Sink {
    std::string name;
    uint64_t scans = 0;
    uint64_t scans_with_errors = 0;
    absl::Duration scan_time = absl::ZeroDuration();  // summed over scans
    uint64_t attacks_detected = 0;
    uint64_t attacks_blocked = 0;
  };
  struct AttackKind {
    std::string kind;
    uint64_t detected = 0;
    uint64_t blocked = 0;
  };
  struct Route {
    std::string method;
    std::string path;
    uint64_t hits = 0;
    int64_t last_seen_ms = 0;
  };
  struct User {
    std::string id;
    std::string name;
    std::string last_ip_address;
    int64_t first_seen_ms = 0;
    int64_t last_seen_ms = 0;
  };
  struct Host {
    std::string hostname;
    int port = 0;
    uint64_t hits = 0;
    int64_t last_seen_ms = 0;
  };
  struct KeyCount {
    std::string key;
    uint64_t count = 0;
  };
  // Entries evicted from each capped collection during the period.
  struct Dropped {
    uint64_t routes = 0;
    uint64_t users = 0;
    uint64_t hosts = 0;
    uint64_t sinks = 0;
    uint64_t attack_kinds = 0;
    uint64_t user_agents = 0;
    uint64_t ip_lists = 0;
  };

  absl::Time started_at = absl::UnixEpoch();
  // When this snapshot was taken (for Flush, when the period ended).
  absl::Time ended_at = absl::UnixEpoch();

  uint64_t requests = 0;
  uint64_t rate_limited_requests = 0;
  uint64_t attacks_detected = 0;
  uint64_t attacks_blocked = 0;
  uint64_t attack_waves_detected = 0;
  uint64_t attack_waves_blocked = 0;
  // Events ignored for lacking a required field.
  uint64_t invalid_events = 0;

  std::vector<Sink> sinks;
  std::vector<AttackKind> attacks_by_kind;  // attacks that named a kind
  std::vector<Route> routes;
  std::vector<User> users;
  std::vector<Host> hosts;
  std::vector<KeyCount> user_agents;  // userAgentDetails key -> hits
  std::vector<KeyCount> ip_lists;     // monitored IP list key -> hits
  Dropped dropped;
};

// Thread-safe: any number of threads may record while another snapshots or
// flushes. Each call holds one internal lock briefly (a batch holds it once
// for the whole batch).
class Collector {
 public:
  explicit Collector(CollectorOptions options = CollectorOptions());
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  void Record(const CollectorEvent& event) ABSL_LOCKS_EXCLUDED(mu_);
  void RecordBatch(absl::Span<const CollectorEvent> events)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The statistics since the last Flush (or construction).
  CollectorStats Snapshot() const ABSL_LOCKS_EXCLUDED(mu_);

  // Returns the statistics since the last Flush and starts a new, empty
  // period, as a heartbeat does. No event is lost or counted twice between
  // the two periods.
  CollectorStats Flush() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Period;  // the mutable state of one statistics period

  const CollectorOptions options_;
  mutable Mutex mu_;
  std::unique_ptr<Period> period_ ABSL_GUARDED_BY(mu_);  // never null
};

}  // namespace zen

#endif  // ZEN_AGENT_COLLECTOR_H_
