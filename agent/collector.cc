#include "agent/collector.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/lru_map.h"

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

std::vector<CollectorStats::KeyCount> KeyCounts(const LruMap<uint64_t>& map) {
  std::vector<CollectorStats::KeyCount> counts;
  counts.reserve(map.size());
  map.ForEach([&](const LruMap<uint64_t>::Entry& entry) {
    counts.push_back({entry.key, entry.value});
  });
  return counts;
}

}  // namespace

struct Collector::Period {
  Period(const CollectorOptions& options, absl::Time started_at)
      : started_at(started_at),
        sinks(options.max_sinks),
        attack_kinds(options.max_attack_kinds),
        routes(options.max_routes),
        users(options.max_users),
        hosts(options.max_hosts),
        user_agents(options.max_user_agents),
        ip_lists(options.max_ip_lists) {}

  void Record(const CollectorEvent& event);
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

  CollectorStats::Sink* SinkSlot(absl::string_view name) {
    bool inserted = false;
    CollectorStats::Sink* sink = Slot(&sinks, name, &dropped.sinks, &inserted);
    if (inserted) sink->name = std::string(name);
    return sink;
  }

  const absl::Time started_at;
  uint64_t requests = 0;
  uint64_t rate_limited_requests = 0;
  uint64_t attacks_detected = 0;
  uint64_t attacks_blocked = 0;
  uint64_t attack_waves_detected = 0;
  uint64_t attack_waves_blocked = 0;
  uint64_t invalid_events = 0;
  LruMap<CollectorStats::Sink> sinks;
  LruMap<CollectorStats::AttackKind> attack_kinds;
  LruMap<CollectorStats::Route> routes;
  LruMap<CollectorStats::User> users;
  LruMap<CollectorStats::Host> hosts;
  LruMap<uint64_t> user_agents;
  LruMap<uint64_t> ip_lists;
  CollectorStats::Dropped dropped;
};

void Collector::Period::Record(const CollectorEvent& event) {
  switch (event.type) {
    case CollectorEventType::kRequest:
      ++requests;
      return;

    case CollectorEventType::kRateLimitedRequest:
      ++rate_limited_requests;
      return;

    case CollectorEventType::kUserAgent:
      for (const std::string& key : event.keys) {
        if (!key.empty()) ++*Slot(&user_agents, key, &dropped.user_agents);
      }
      return;

    case CollectorEventType::kIpList:
      for (const std::string& key : event.keys) {
        if (!key.empty()) ++*Slot(&ip_lists, key, &dropped.ip_lists);
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
      CollectorStats::Sink* sink = SinkSlot(event.sink_name);
      ++sink->scans;
      if (event.has_errors) ++sink->scans_with_errors;
      sink->scan_time += event.duration;
      return;
    }

    case CollectorEventType::kAttack: {
      // Totals count every attack; the per-sink and per-kind breakdowns only
      // those that name one.
      ++attacks_detected;
      if (event.blocked) ++attacks_blocked;
      if (!event.sink_name.empty()) {
        CollectorStats::Sink* sink = SinkSlot(event.sink_name);
        ++sink->attacks_detected;
        if (event.blocked) ++sink->attacks_blocked;
      }
      if (!event.attack_kind.empty()) {
        bool inserted = false;
        CollectorStats::AttackKind* kind = Slot(
            &attack_kinds, event.attack_kind, &dropped.attack_kinds, &inserted);
        if (inserted) kind->kind = event.attack_kind;
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
      CollectorStats::User* user =
          Slot(&users, event.user_id, &dropped.users, &inserted);
      if (inserted) {
        user->id = event.user_id;
        user->first_seen_ms = first_seen;
      } else if (first_seen != 0 && (user->first_seen_ms == 0 ||
                                     first_seen < user->first_seen_ms)) {
        user->first_seen_ms = first_seen;
      }
      // Workers report out of order; name and address come from the latest
      // sighting.
      if (inserted || last_seen >= user->last_seen_ms) {
        user->last_seen_ms = last_seen;
        if (!event.user_name.empty()) user->name = event.user_name;
        if (!event.ip_address.empty()) user->last_ip_address = event.ip_address;
      }
      return;
    }

    case CollectorEventType::kOutbound: {
      if (event.hostname.empty()) {
        ++invalid_events;
        return;
      }
      bool inserted = false;
      CollectorStats::Host* host =
          Slot(&hosts, absl::StrCat(event.hostname, kKeySeparator, event.port),
               &dropped.hosts, &inserted);
      if (inserted) {
        host->hostname = event.hostname;
        host->port = event.port;
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
      CollectorStats::Route* route =
          Slot(&routes, absl::StrCat(event.method, kKeySeparator, event.path),
               &dropped.routes, &inserted);
      if (inserted) {
        route->method = event.method;
        route->path = event.path;
      }
      ++route->hits;
      route->last_seen_ms = std::max(route->last_seen_ms, event.timestamp_ms);
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
  stats.sinks = Values(sinks);
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
  MutexLock lock(&mu_);
  period_->Record(event);
}

void Collector::RecordBatch(absl::Span<const CollectorEvent> events) {
  MutexLock lock(&mu_);
  for (const CollectorEvent& event : events) period_->Record(event);
}

CollectorStats Collector::Snapshot() const {
  const absl::Time now = options_.clock();
  MutexLock lock(&mu_);
  return period_->ToStats(now);
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
  return finished->ToStats(now);
}

}  // namespace zen
