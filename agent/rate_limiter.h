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
#ifndef ZEN_AGENT_RATE_LIMITER_H_
#define ZEN_AGENT_RATE_LIMITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "agent/runtime_settings.h"
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
  // AssignRateLimitDiscriminator, into a buffer it keeps): returns false
  // when no rate limit applies, else fills `*result` but for its
  // `discriminator`, which is left as it was. A warm check allocates
  // nothing this way.
  bool CheckInto(RouteView route, absl::string_view client_ip,
                 std::optional<absl::string_view> actor_id,
                 const RuntimeSettings& settings, absl::Time now,
                 RateLimitResult* result) ABSL_LOCKS_EXCLUDED(mu_);

  // Windows currently tracked, and windows evicted for lack of room since
  // construction.
  size_t tracked_windows() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t evicted_windows() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  class Windows;  // the LRU map of windows

  // Counts one request in the window `key` (of `length_ns`) at `now_ns`,
  // and sets *result's counts and times from it.
  void CountInWindow(absl::string_view key, int64_t length_ns, int64_t now_ns,
                     RateLimitResult* result) ABSL_LOCKS_EXCLUDED(mu_);

  mutable Mutex mu_;
  std::unique_ptr<Windows> windows_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zen

#endif  // ZEN_AGENT_RATE_LIMITER_H_
