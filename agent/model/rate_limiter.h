// The one rate limiter shared by every worker: the parent answers
// `calculate_rate_limits` from here, so a limit of N per window holds across
// all workers together, as in the reference (docs/architecture.md,
// "Events, rate limits, attack waves"; docs/protocol.md has the wire).
//
// Exact sliding windows. Each (endpoint, discriminator) pair has its own log
// of admitted requests; the discriminator is `actor:<id>` when the request
// has an actor (user), else the client IP, as the reference's default
// rate_limiting_discriminator. A request is admitted iff fewer than
// maxRequests requests were admitted in the window ending now; a request
// admitted at time t holds its slot during [t, t + windowSizeInMS), so at
// t + window it is free again. Throttled requests are not recorded: a client
// that keeps retrying while throttled gets its slots back on schedule.
//
// Windows are per matched endpoint (RuntimeConfig::FindEndpoint, as the
// reference matches), not per request route: the endpoint `* /api/*` counts
// GET /api/a and POST /api/b together. They are also per limits: when new
// settings change an endpoint's maxRequests or windowSizeInMS, its clients
// start from empty windows (as the reference's fresh bucket), and the old
// windows expire; settings that keep the limits keep the windows.
//
// Memory is bounded: at most `max_tracked_windows` windows and
// `max_tracked_requests` timestamps of 8 bytes across them (the least
// recently used window is evicted, forgetting its history); each window's
// key holds at most kMaxKeyBytes of client data (bounded_key.h), a client
// IP in canonical form; windows whose requests have all expired are also
// reclaimed as checks go by.
//
// Shared windows: with RateLimiterOptions::zone set, the windows are kept
// in a RateLimitZone (agent/model/rate_limit_zone.h), memory the parent shares
// with every worker it forks, under the same key bytes in every process;
// the parent's limiter (answering calculate_rate_limits) and each worker's
// count in the same windows, and a worker decides without a round trip.
// A zone window remembers at most max_requests_per_window requests, and
// its lock may be held too long (a stopped or hostile process): then the
// zone cannot decide, and Decide() says so (kZoneUnsupported, kZoneBusy)
// for a worker to ask the parent instead, while the parent's checks count
// such requests in its own in-process windows (see ZoneFallback).
#ifndef ZEN_AGENT_MODEL_RATE_LIMITER_H_
#define ZEN_AGENT_MODEL_RATE_LIMITER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "agent/model/rate_limit_zone.h"
#include "agent/model/runtime_settings.h"
#include "base/log_throttle.h"
#include "base/mutex.h"

namespace zen {

// The route of a request, as the framework names it.
struct RouteKey {
  std::string method;
  std::string path;
};

// A route by reference, as a check reads it: a caller holding the route in
// other strings (a decoded request) need not copy it into a RouteKey.
struct RouteView {
  RouteView(absl::string_view route_method, absl::string_view route_path)
      : method(route_method), path(route_path) {}
  RouteView(const RouteKey& route)  // NOLINT: implicit, RouteKey's view.
      : method(route.method), path(route.path) {}

  absl::string_view method;
  absl::string_view path;
};

enum class RateLimitDiscriminator { kIp, kUser };

// "ip" or "user".
absl::string_view RateLimitDiscriminatorName(RateLimitDiscriminator kind);

// Sets `*out` to what a check's window is kept for: `actor:<id>` when
// `actor_id` is set and not empty, else `client_ip` as given. Assigned in
// place, so a string kept across calls keeps its buffer.
void AssignRateLimitDiscriminator(absl::string_view client_ip,
                                  std::optional<absl::string_view> actor_id,
                                  std::string* out);

struct RateLimitResult {
  bool throttled = false;
  RateLimitDiscriminator discriminator_kind = RateLimitDiscriminator::kIp;
  // What the window is kept for: `actor:<id>`, or the client IP.
  std::string discriminator;
  // Requests counted in the window, this one included if admitted.
  int64_t current_requests = 0;
  int64_t max_requests = 0;
  // Milliseconds (rounded up) until the oldest counted request leaves the
  // window, i.e. until a throttled client may succeed again; 0 when the
  // window is empty. With maxRequests 0 nothing is ever admitted, and this is
  // the window length. From a parent's answer (whole seconds on the wire),
  // time_remaining_seconds * 1000.
  int64_t time_remaining_ms = 0;
  // The same in whole seconds, rounded up: the wire's `time_remaining` and
  // what a throttled client is told in `Retry-After`.
  int64_t time_remaining_seconds = 0;
};

struct RateLimiterOptions {
  // Most (endpoint, discriminator) windows kept at once.
  size_t max_tracked_windows = 100000;
  // Most admitted requests remembered across all windows (8 bytes each):
  // past it the least recently used windows are forgotten. With the keys'
  // bound (kMaxKeyBytes for the client's part), memory stays within about
  // max_tracked_windows * 300 B + max_tracked_requests * 8 B (62 MB by
  // default) whatever clients send.
  size_t max_tracked_requests = size_t{4} << 20;
  // Not owned; must outlive the limiter. When set, each window is counted
  // in this zone (shared with the processes forked after it was created)
  // when it can be; the in-process windows above then hold only what the
  // zone cannot decide (see ZoneFallback).
  RateLimitZone* zone = nullptr;
  // With ZoneFallback::kInProcess (the parent): how long a check keeps
  // trying a busy zone (each try waits the zone's lock_timeout) before it
  // counts in its own windows. A holder preempted under load lets go well
  // within this, so the parent still counts in the shared window and no
  // limit is admitted twice; only a holder stopped for good (or hostile)
  // leads to the degraded mode. Keep it under the workers'
  // rate_limit_timeout (1 s), or their questions time out first.
  absl::Duration zone_busy_wait = absl::Milliseconds(500);
};

// Which path decided a check (RateLimiter::Decide).
enum class RateLimitPath {
  kNoLimit,    // no limit applies; nothing counted, *result untouched
  kZone,       // counted in the shared zone
  kInProcess,  // counted in this limiter's own windows
  // Nothing counted (only with ZoneFallback::kReport): the endpoint's limit
  // is above what a zone window remembers (max_requests_per_window) ...
  kZoneUnsupported,
  // ... or the zone's lock was not free within its lock_timeout (or was
  // not, less than kZoneBusyRetryInterval ago).
  kZoneBusy,
};

// "no_limit", "zone", "in_process", "zone_unsupported", "zone_busy".
absl::string_view RateLimitPathName(RateLimitPath path);

// What a check does when the zone cannot decide it.
enum class ZoneFallback {
  // Count in this limiter's own windows: the parent, whose windows are the
  // ones every worker asks about such requests. A limit above the zone's
  // windows is always sent to the parent by every process, so its windows
  // stay exact. A busy zone is a degraded mode: the parent counts apart
  // from the workers that still reach the zone, so while it lasts a window
  // may admit up to its limit once in the zone and once in the parent; a
  // warning goes to the log at most once per kZoneBusyWarningInterval.
  kInProcess,
  // Count nothing and return kZoneUnsupported / kZoneBusy: a worker, which
  // then asks the parent (calculate_rate_limits) instead.
  kReport,
};

// Thread-safe: Check may be called from any number of threads; checks of
// one window are serialized, so exactly maxRequests of any concurrent burst
// are admitted.
class RateLimiter {
 public:
  explicit RateLimiter(RateLimiterOptions options = RateLimiterOptions());
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Counts one request to `route` at `now` and says whether to throttle it.
  // Returns nullopt when no rate limit applies: no endpoint matches (see
  // RuntimeConfig::FindEndpoint), its rate limiting is disabled, the actor
  // is in excludedUserIdsFromRateLimiting, or the client IP is in the
  // global allowedIPAddresses. (An endpoint's own allowedIPAddresses say
  // who may use it, not who is exempt from its limit.) An empty `actor_id`
  // counts as none; requests without actor are limited by `client_ip` as given
  // (all requests whose IP is unknown share one window). `now` comes from
  // the caller so tests can use a fake clock; callers racing with slightly
  // different `now` values are handled by treating a time earlier than the
  // window's newest request as that request's time.
  std::optional<RateLimitResult> Check(
      RouteView route, absl::string_view client_ip,
      std::optional<absl::string_view> actor_id,
      const RuntimeSettings& settings, absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);

  // Check for a caller that writes the discriminator itself (with
  // AssignRateLimitDiscriminator, into a buffer it keeps) and must know
  // which path decided: kNoLimit where Check returns nullopt; kZone or
  // kInProcess when *result holds the decision (all but its
  // `discriminator`, which is left as it was); with ZoneFallback::kReport,
  // kZoneUnsupported or kZoneBusy when the zone could not decide and
  // nothing was counted (then only result->max_requests and
  // discriminator_kind are set). Check is Decide(...,
  // ZoneFallback::kInProcess, ...) plus the discriminator. A warm check
  // allocates nothing, and a zone decision makes no syscall while the
  // zone's lock is free.
  RateLimitPath Decide(RouteView route, absl::string_view client_ip,
                       std::optional<absl::string_view> actor_id,
                       const RuntimeSettings& settings, absl::Time now,
                       ZoneFallback fallback, RateLimitResult* result)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Windows currently tracked (the zone's, which every process sharing it
  // counts, plus this limiter's own), and windows evicted for lack of room
  // (likewise: the zone's since it was created, this limiter's since
  // construction).
  size_t tracked_windows() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t evicted_windows() const ABSL_LOCKS_EXCLUDED(mu_);

  // Checks the zone could not decide since construction: limit above its
  // windows, and lock busy (whatever the fallback).
  uint64_t zone_unsupported_checks() const {
    return zone_unsupported_.load(std::memory_order_relaxed);
  }
  // The zone given in the options, or null.
  const RateLimitZone* zone() const { return zone_; }
  uint64_t zone_busy_checks() const {
    return zone_busy_.load(std::memory_order_relaxed);
  }

  static constexpr absl::Duration kZoneBusyWarningInterval = absl::Seconds(10);
  // After the zone was busy, this limiter's checks treat it as busy without
  // waiting for its lock until this long has passed (by the checks' `now`):
  // a lock held for good (a stopped or hostile process) costs each process
  // one lock_timeout per interval, not one per check.
  static constexpr absl::Duration kZoneBusyRetryInterval = absl::Seconds(1);

 private:
  class Windows;  // the LRU map of windows

  // Counts one request in the window `key` (of `length_ns`) at `now_ns`,
  // and sets *result's counts and times from it.
  void CountInWindow(absl::string_view key, int64_t length_ns, int64_t now_ns,
                     RateLimitResult* result) ABSL_LOCKS_EXCLUDED(mu_);

  // Logs (throttled) that a busy zone made this limiter count in-process.
  void WarnZoneBusy(absl::Time now);

  RateLimitZone* const zone_;
  const absl::Duration zone_busy_wait_;
  mutable Mutex mu_;
  std::unique_ptr<Windows> windows_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> zone_unsupported_{0};
  std::atomic<uint64_t> zone_busy_{0};
  // Unix nanoseconds before which the zone counts as busy without a wait.
  std::atomic<int64_t> zone_busy_until_ns_{INT64_MIN};
  LogThrottle zone_busy_log_{kZoneBusyWarningInterval};
};

}  // namespace zen

#endif  // ZEN_AGENT_MODEL_RATE_LIMITER_H_
