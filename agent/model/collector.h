// The parent's statistics: folds the events every worker sends
// (`send_collector_events`) into the totals a heartbeat reports.
//
// Memory is bounded: every keyed collection (routes, users, outbound hosts,
// sinks, attack kinds, user-agent keys, IP-list keys) has a cap; when a new
// key arrives at a full collection, the entry seen least recently is dropped
// and counted in CollectorStats::dropped (the reference drops the entry
// added first, and caps only users, hosts and compressed timings). Each sink
// keeps at most max_timing_samples scan durations before compressing them,
// and at most max_compressed_timings compressions; each route merges at
// most api_schema_max_samples request schemas. Plain counters are never
// capped. So the worst case is about max_sinks * max_timing_samples * 16
// bytes of durations (80 MB with the defaults; a real application has a
// few dozen sinks) plus max_schema_parts parts of merged route schemas
// (about 30 MB with the defaults).
//
// Every text a worker sends is bounded in bytes too before it is kept
// (CollectorTextBounds, agent/model/collector_event.h): names over their bound
// keep their readable start plus a digest of the whole (BoundedText), so
// distinct long names stay distinct entries; merged route schemas are bounded
// in parts and in bytes per period. docs/security.md lists every field with its
// bound.
//
// What the reference's parent keeps for its heartbeat (lib/aikido/zen/
// collector.rb and collector/*.rb in aikido-zen 1.8.0) is all here;
// agent/model/heartbeat.h writes it as the reference's heartbeat document.
#ifndef ZEN_AGENT_MODEL_COLLECTOR_H_
#define ZEN_AGENT_MODEL_COLLECTOR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "agent/model/api_schema.h"
#include "agent/model/collector_event.h"
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
  // Per sink: scan durations kept before they are compressed into one
  // CompressedTiming, and compressions kept (the oldest is dropped). The
  // reference's max_performance_samples and max_compressed_stats.
  size_t max_timing_samples = 5000;
  size_t max_compressed_timings = 100;
  // Per route: the request schemas merged into its API spec; later hits
  // only count. The reference's api_schema_max_samples.
  size_t api_schema_max_samples = 10;
  // Per period: the parts (ApiSchema::size) of all the schema samples
  // merged, over all routes; a sample past it is not merged and is counted
  // in CollectorStats::dropped.schema_samples. Bounds the merged schemas'
  // memory (a few hundred bytes a part) whatever the workers send; real
  // samples have a few dozen parts. The reference has no such bound.
  size_t max_schema_parts = 100000;
  // Per period: the bytes of schema JSON merged, over all routes; a sample
  // past it is dropped as above. Parts alone do not bound bytes (one part
  // may carry a property name of most of the 64 KiB a sample may have).
  size_t max_schema_bytes = size_t{16} << 20;
  // Stamps the start and end of each statistics period and each timing
  // compression. Called without the collector's lock, from whichever thread
  // constructs, records, snapshots or flushes, so it must be thread-safe.
  std::function<absl::Time()> clock = [] { return zen::Now(); };
};

// One statistics period. Keyed collections are listed from the most to the
// least recently seen entry; `first_seen_order` gives the order in which
// entries were first seen in the period (0, 1, 2, ... across collections),
// the order the reference reports them in.
struct CollectorStats {
  // The scan durations of one sink, compressed as the reference's
  // SinkStats#compress_timings does: in seconds, as the reference keeps them
  // (a heartbeat reports them times 1000, in ms).
  struct CompressedTiming {
    double mean_seconds = 0;
    // (50, p50), (75, p75), (90, p90), (95, p95), (99, p99).
    std::vector<std::pair<int, double>> percentiles_seconds;
    absl::Time compressed_at = absl::UnixEpoch();
    bool operator==(const CompressedTiming& other) const;
  };
  struct Sink {
    std::string name;
    // The reference's sink kind (e.g. "sql_injection"), as the latest scan
    // or attack on this sink named it (empty if that one named none).
    std::string kind;
    uint64_t scans = 0;
    uint64_t scans_with_errors = 0;
    absl::Duration scan_time = absl::ZeroDuration();  // summed over scans
    uint64_t attacks_detected = 0;
    uint64_t attacks_blocked = 0;
    // Oldest first. Durations not yet compressed when the snapshot is taken
    // are compressed into a last entry stamped with its `ended_at`, as the
    // reference's flush does. Non-finite durations are not sampled.
    std::vector<CompressedTiming> compressed_timings;
    uint64_t first_seen_order = 0;
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
    // The first api_schema_max_samples hits' schemas merged (a hit without
    // a schema uses up a sample too, as in the reference); empty() when none
    // was merged.
    ApiSchema schema;
    uint64_t schema_samples = 0;
    uint64_t first_seen_order = 0;
  };
  struct User {
    std::string id;
    std::string name;
    std::string last_ip_address;
    int64_t first_seen_ms = 0;
    int64_t last_seen_ms = 0;
    uint64_t first_seen_order = 0;
  };
  struct Host {
    std::string hostname;  // ASCII-lowercased, as the reference keys hosts
    int port = 0;
    uint64_t hits = 0;
    int64_t last_seen_ms = 0;
    uint64_t first_seen_order = 0;
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
    // Route schema samples not merged for CollectorOptions::max_schema_parts
    // or max_schema_bytes.
    uint64_t schema_samples = 0;
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
  // Route schemas ApiSchema::FromJson rejected (the hit still counts).
  uint64_t invalid_schemas = 0;
  // Collector::MarkMiddlewareInstalled was called, in any period.
  bool middleware_installed = false;

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

  // Folds events in. A user's name and address come from the sighting with
  // the latest last-seen time (ties: the later event), even when empty, as
  // the reference's Actor#merge does. A route sample's schema is parsed under
  // the lock (at most api_schema_max_samples per route and period, each at
  // most ApiSchema::kMaxJsonBytes).
  void Record(const CollectorEvent& event) ABSL_LOCKS_EXCLUDED(mu_);
  void RecordBatch(absl::Span<const CollectorEvent> events)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Records that the host's middleware is installed (the reference's
  // Collector#middleware_installed!). Never reset, not even by Flush.
  void MarkMiddlewareInstalled();

  // The statistics since the last Flush (or construction).
  CollectorStats Snapshot() const ABSL_LOCKS_EXCLUDED(mu_);

  // Returns the statistics since the last Flush and starts a new, empty
  // period, as a heartbeat does. No event is lost or counted twice between
  // the two periods.
  CollectorStats Flush() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Period;  // the mutable state of one statistics period

  const CollectorOptions options_;
  std::atomic<bool> middleware_installed_{false};
  mutable Mutex mu_;
  std::unique_ptr<Period> period_ ABSL_GUARDED_BY(mu_);  // never null
};

}  // namespace zen

#endif  // ZEN_AGENT_MODEL_COLLECTOR_H_
