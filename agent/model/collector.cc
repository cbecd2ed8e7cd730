#include "agent/model/collector.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/model/bounded_key.h"
#include "base/lru_map.h"

namespace zen {
namespace {

// Separates the parts of composite keys; NUL cannot collide with the text of
// a method, hostname or port.
constexpr absl::string_view kKeySeparator("\0", 1);

// Most recently seen first, as LruMap iterates.
template <typename Value>
std::vector<Value> Values(const LruMap<Value>& map) {
  std::vector<Value> values;
  values.reserve(map.size());
  map.ForEach([&](const typename LruMap<Value>::Entry& entry) {
    values.push_back(entry.value);
  });
  return values;
}

// The sum of `values` as Ruby's Array#sum adds floats (Kahan-Babuska
// compensated summation), so the mean matches the reference's to the bit.
double RubyFloatSum(const std::vector<double>& values) {
  double sum = 0.0;
  double compensation = 0.0;
  for (double x : values) {
    const double t = sum + x;
    if (std::fabs(sum) >= std::fabs(x)) {
      compensation += (sum - t) + x;
    } else {
      compensation += (x - t) + sum;
    }
    sum = t;
  }
  return sum + compensation;
}

// The reference's SinkStats#compress_timings over the (distinct) durations
// in `timings`: their mean, and for p in 50, 75, 90, 95, 99 the sorted
// list's element at floor(n * p / 100.0).
CollectorStats::CompressedTiming Compress(
    const absl::flat_hash_set<double>& timings, absl::Time at) {
  std::vector<double> sorted(timings.begin(), timings.end());
  std::sort(sorted.begin(), sorted.end());
  CollectorStats::CompressedTiming timing;
  timing.mean_seconds =
      RubyFloatSum(sorted) / static_cast<double>(sorted.size());
  for (int p : {50, 75, 90, 95, 99}) {
    const size_t index = static_cast<size_t>(
        std::floor(static_cast<double>(sorted.size()) * (p / 100.0)));
    timing.percentiles_seconds.emplace_back(
        p, sorted[std::min(index, sorted.size() - 1)]);
  }
  timing.compressed_at = at;
  return timing;
}

// Adds as the reference's CappedSet does: an equal entry already there is
// kept where it is; past `capacity` the oldest entry goes.
void AddCompressed(std::vector<CollectorStats::CompressedTiming>* list,
                   CollectorStats::CompressedTiming timing, size_t capacity) {
  if (std::find(list->begin(), list->end(), timing) != list->end()) return;
  list->push_back(std::move(timing));
  if (list->size() > std::max<size_t>(capacity, 1)) list->erase(list->begin());
}

std::vector<CollectorStats::KeyCount> KeyCounts(const LruMap<uint64_t>& map) {
  std::vector<CollectorStats::KeyCount> counts;
  counts.reserve(map.size());
  map.ForEach([&](const LruMap<uint64_t>::Entry& entry) {
    counts.push_back({entry.key, entry.value});
  });
  return counts;
}

}  // namespace

bool CollectorStats::CompressedTiming::operator==(
    const CompressedTiming& other) const {
  return mean_seconds == other.mean_seconds &&
         percentiles_seconds == other.percentiles_seconds &&
         compressed_at == other.compressed_at;
}

struct Collector::Period {
  // A sink's statistics and the scan durations not yet compressed. A set,
  // as in the reference: equal durations are sampled once.
  struct SinkState {
    CollectorStats::Sink stats;
    absl::flat_hash_set<double> timings;
  };

  Period(const CollectorOptions& options, absl::Time started_at)
      : max_timing_samples(std::max<size_t>(options.max_timing_samples, 1)),
        max_compressed_timings(options.max_compressed_timings),
        api_schema_max_samples(options.api_schema_max_samples),
        max_schema_parts(options.max_schema_parts),
        max_schema_bytes(options.max_schema_bytes),
        started_at(started_at),
        sinks(options.max_sinks),
        attack_kinds(options.max_attack_kinds),
        routes(options.max_routes),
        users(options.max_users),
        hosts(options.max_hosts),
        user_agents(options.max_user_agents),
        ip_lists(options.max_ip_lists) {}

  // `now` stamps a compression of timings.
  void Record(const CollectorEvent& event, absl::Time now);
  CollectorStats ToStats(absl::Time ended_at) const;

  // Finds or adds `key` in `map`, counting an eviction in `*dropped`.
  template <typename Value>
  static Value* Slot(LruMap<Value>* map, absl::string_view key,
                     uint64_t* dropped, bool* inserted = nullptr) {
    auto result = map->FindOrInsert(key);
    if (result.evicted) ++*dropped;
    if (inserted != nullptr) *inserted = result.inserted;
    return result.value;
  }

  SinkState* SinkSlot(const CollectorEvent& event) {
    bool inserted = false;
    std::string name =
        BoundedText(event.sink_name, CollectorTextBounds::kSinkName);
    SinkState* sink = Slot(&sinks, name, &dropped.sinks, &inserted);
    if (inserted) {
      sink->stats.name = std::move(name);
      sink->stats.first_seen_order = next_order++;
    }
    // Every scan and attack sets the kind, as the reference's does.
    sink->stats.kind =
        std::string(TruncateUtf8(event.sink_kind, CollectorTextBounds::kKind));
    return sink;
  }

  const size_t max_timing_samples;
  const size_t max_compressed_timings;
  const size_t api_schema_max_samples;
  const size_t max_schema_parts;
  const size_t max_schema_bytes;
  const absl::Time started_at;
  size_t schema_parts = 0;  // of the samples merged in this period
  size_t schema_bytes = 0;  // their JSON text
  uint64_t next_order = 0;
  uint64_t requests = 0;
  uint64_t rate_limited_requests = 0;
  uint64_t attacks_detected = 0;
  uint64_t attacks_blocked = 0;
  uint64_t attack_waves_detected = 0;
  uint64_t attack_waves_blocked = 0;
  uint64_t invalid_events = 0;
  uint64_t invalid_schemas = 0;
  LruMap<SinkState> sinks;
  LruMap<CollectorStats::AttackKind> attack_kinds;
  LruMap<CollectorStats::Route> routes;
  LruMap<CollectorStats::User> users;
  LruMap<CollectorStats::Host> hosts;
  LruMap<uint64_t> user_agents;
  LruMap<uint64_t> ip_lists;
  CollectorStats::Dropped dropped;
};

void Collector::Period::Record(const CollectorEvent& event, absl::Time now) {
  switch (event.type) {
    case CollectorEventType::kRequest:
      ++requests;
      return;

    case CollectorEventType::kRateLimitedRequest:
      ++rate_limited_requests;
      return;

    case CollectorEventType::kUserAgent:
      for (const std::string& key : event.keys) {
        if (key.empty()) continue;
        ++*Slot(&user_agents, BoundedText(key, CollectorTextBounds::kListKey),
                &dropped.user_agents);
      }
      return;

    case CollectorEventType::kIpList:
      for (const std::string& key : event.keys) {
        if (key.empty()) continue;
        ++*Slot(&ip_lists, BoundedText(key, CollectorTextBounds::kListKey),
                &dropped.ip_lists);
      }
      return;

    case CollectorEventType::kAttackWave:
      ++attack_waves_detected;
      if (event.blocked) ++attack_waves_blocked;
      return;

    case CollectorEventType::kScan: {
      if (event.sink_name.empty()) {
        ++invalid_events;
        return;
      }
      SinkState* sink = SinkSlot(event);
      ++sink->stats.scans;
      if (event.has_errors) ++sink->stats.scans_with_errors;
      sink->stats.scan_time += event.duration;
      const double seconds = absl::ToDoubleSeconds(event.duration);
      if (std::isfinite(seconds)) {
        if (sink->timings.size() >= max_timing_samples) {
          AddCompressed(&sink->stats.compressed_timings,
                        Compress(sink->timings, now), max_compressed_timings);
          sink->timings.clear();
        }
        sink->timings.insert(seconds);
      }
      return;
    }

    case CollectorEventType::kAttack: {
      // Totals count every attack; the per-sink and per-kind breakdowns only
      // those that name one.
      ++attacks_detected;
      if (event.blocked) ++attacks_blocked;
      if (!event.sink_name.empty()) {
        SinkState* sink = SinkSlot(event);
        ++sink->stats.attacks_detected;
        if (event.blocked) ++sink->stats.attacks_blocked;
      }
      if (!event.attack_kind.empty()) {
        bool inserted = false;
        std::string name =
            BoundedText(event.attack_kind, CollectorTextBounds::kKind);
        CollectorStats::AttackKind* kind =
            Slot(&attack_kinds, name, &dropped.attack_kinds, &inserted);
        if (inserted) kind->kind = std::move(name);
        ++kind->detected;
        if (event.blocked) ++kind->blocked;
      }
      return;
    }

    case CollectorEventType::kUser: {
      if (event.user_id.empty()) {
        ++invalid_events;
        return;
      }
      const int64_t first_seen =
          event.first_seen_ms != 0 ? event.first_seen_ms : event.timestamp_ms;
      const int64_t last_seen =
          event.last_seen_ms != 0 ? event.last_seen_ms : event.timestamp_ms;
      bool inserted = false;
      std::string id = BoundedText(event.user_id, CollectorTextBounds::kUserId);
      CollectorStats::User* user = Slot(&users, id, &dropped.users, &inserted);
      if (inserted) {
        user->id = std::move(id);
        user->first_seen_ms = first_seen;
        user->first_seen_order = next_order++;
      } else if (first_seen != 0 && (user->first_seen_ms == 0 ||
                                     first_seen < user->first_seen_ms)) {
        user->first_seen_ms = first_seen;
      }
      // Workers report out of order; name and address come from the latest
      // sighting, even when it has none (the reference's Actor#merge takes
      // the newer actor's, nil included).
      if (inserted || last_seen >= user->last_seen_ms) {
        user->last_seen_ms = last_seen;
        user->name = std::string(
            TruncateUtf8(event.user_name, CollectorTextBounds::kUserName));
        user->last_ip_address = std::string(
            TruncateUtf8(event.ip_address, CollectorTextBounds::kIpAddress));
      }
      return;
    }

    case CollectorEventType::kOutbound: {
      if (event.hostname.empty()) {
        ++invalid_events;
        return;
      }
      // The reference's OutboundConnection downcases the hostname.
      std::string hostname = BoundedText(absl::AsciiStrToLower(event.hostname),
                                         CollectorTextBounds::kHostname);
      bool inserted = false;
      CollectorStats::Host* host =
          Slot(&hosts, absl::StrCat(hostname, kKeySeparator, event.port),
               &dropped.hosts, &inserted);
      if (inserted) {
        host->hostname = std::move(hostname);
        host->port = event.port;
        host->first_seen_order = next_order++;
      }
      ++host->hits;
      host->last_seen_ms = std::max(host->last_seen_ms, event.timestamp_ms);
      return;
    }

    case CollectorEventType::kRoute: {
      if (event.method.empty() || event.path.empty()) {
        ++invalid_events;
        return;
      }
      bool inserted = false;
      const absl::string_view method =
          TruncateUtf8(event.method, CollectorTextBounds::kMethod);
      std::string path =
          BoundedText(event.path, CollectorTextBounds::kRoutePath);
      CollectorStats::Route* route =
          Slot(&routes, absl::StrCat(method, kKeySeparator, path),
               &dropped.routes, &inserted);
      if (inserted) {
        route->method = std::string(method);
        route->path = std::move(path);
        route->first_seen_order = next_order++;
      }
      ++route->hits;
      route->last_seen_ms = std::max(route->last_seen_ms, event.timestamp_ms);
      if (route->schema_samples < api_schema_max_samples) {
        ++route->schema_samples;
        if (!event.schema_json.empty()) {
          absl::StatusOr<ApiSchema> sample =
              ApiSchema::FromJson(event.schema_json);
          if (!sample.ok()) {
            ++invalid_schemas;
          } else if (sample->size() > max_schema_parts - schema_parts ||
                     event.schema_json.size() >
                         max_schema_bytes - schema_bytes) {
            ++dropped.schema_samples;
          } else {
            schema_parts += sample->size();
            schema_bytes += event.schema_json.size();
            route->schema.Merge(*sample);
          }
        }
      }
      return;
    }
  }
  // Not reached for the enum's values; a value cast from an unknown number
  // is invalid.
  ++invalid_events;
}

CollectorStats Collector::Period::ToStats(absl::Time ended_at) const {
  CollectorStats stats;
  stats.started_at = started_at;
  stats.ended_at = ended_at;
  stats.requests = requests;
  stats.rate_limited_requests = rate_limited_requests;
  stats.attacks_detected = attacks_detected;
  stats.attacks_blocked = attacks_blocked;
  stats.attack_waves_detected = attack_waves_detected;
  stats.attack_waves_blocked = attack_waves_blocked;
  stats.invalid_events = invalid_events;
  stats.invalid_schemas = invalid_schemas;
  stats.sinks.reserve(sinks.size());
  sinks.ForEach([&](const LruMap<SinkState>::Entry& entry) {
    stats.sinks.push_back(entry.value.stats);
    // What the reference's flush does at the period's end.
    if (!entry.value.timings.empty()) {
      AddCompressed(&stats.sinks.back().compressed_timings,
                    Compress(entry.value.timings, ended_at),
                    max_compressed_timings);
    }
  });
  stats.attacks_by_kind = Values(attack_kinds);
  stats.routes = Values(routes);
  stats.users = Values(users);
  stats.hosts = Values(hosts);
  stats.user_agents = KeyCounts(user_agents);
  stats.ip_lists = KeyCounts(ip_lists);
  stats.dropped = dropped;
  return stats;
}

Collector::Collector(CollectorOptions options)
    : options_(std::move(options)),
      period_(std::make_unique<Period>(options_, options_.clock())) {}

Collector::~Collector() = default;

void Collector::Record(const CollectorEvent& event) {
  const absl::Time now = options_.clock();
  MutexLock lock(&mu_);
  period_->Record(event, now);
}

void Collector::RecordBatch(absl::Span<const CollectorEvent> events) {
  const absl::Time now = options_.clock();
  MutexLock lock(&mu_);
  for (const CollectorEvent& event : events) period_->Record(event, now);
}

void Collector::MarkMiddlewareInstalled() {
  middleware_installed_.store(true, std::memory_order_relaxed);
}

CollectorStats Collector::Snapshot() const {
  const absl::Time now = options_.clock();
  CollectorStats stats;
  {
    MutexLock lock(&mu_);
    stats = period_->ToStats(now);
  }
  stats.middleware_installed =
      middleware_installed_.load(std::memory_order_relaxed);
  return stats;
}

CollectorStats Collector::Flush() {
  const absl::Time now = options_.clock();
  // The next period is built and the finished one converted outside the
  // lock, so recording threads wait only for the pointer swap.
  auto finished = std::make_unique<Period>(options_, now);
  {
    MutexLock lock(&mu_);
    std::swap(finished, period_);
  }
  CollectorStats stats = finished->ToStats(now);
  stats.middleware_installed =
      middleware_installed_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace zen
