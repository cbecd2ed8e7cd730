#include "agent/model/rate_limiter.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/model/bounded_key.h"
#include "agent/model/ip_set.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/lru_map.h"

namespace zen {
namespace {

// Ends the discriminator's kind ("ip", "user") in a window key, before the
// client's part.
constexpr absl::string_view kKeySeparator("\0", 1);

// How many fully expired windows one check may reclaim from the LRU tail:
// enough to outpace creation, small enough to keep every check cheap.
constexpr int kExpiredWindowsReclaimedPerCheck = 2;

// Admission times of one window, oldest first, as a growable ring buffer:
// 8 bytes per timestamp and no per-element allocation (a std::deque would
// allocate a 512-byte block for the first element of every window).
class TimestampRing {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  int64_t front() const { return buffer_[head_]; }
  int64_t back() const { return buffer_[(head_ + size_ - 1) % buffer_.size()]; }

  void pop_front() {
    head_ = (head_ + 1) % buffer_.size();
    --size_;
  }

  void push_back(int64_t value) {
    if (size_ == buffer_.size()) Grow();
    buffer_[(head_ + size_) % buffer_.size()] = value;
    ++size_;
  }

 private:
  void Grow() {
    std::vector<int64_t> bigger(std::max<size_t>(4, 2 * buffer_.size()));
    for (size_t i = 0; i < size_; ++i) {
      bigger[i] = buffer_[(head_ + i) % buffer_.size()];
    }
    buffer_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<int64_t> buffer_;
  size_t head_ = 0;
  size_t size_ = 0;
};

struct Window {
  TimestampRing admitted;  // Unix nanoseconds
  // The window length at the last check, for reclaiming expired windows.
  int64_t length_ns = 0;

  void Expire(int64_t now_ns) {
    while (!admitted.empty() && admitted.front() + length_ns <= now_ns) {
      admitted.pop_front();
    }
  }
};

int64_t CeilMillis(int64_t nanos) {
  return nanos <= 0 ? 0 : (nanos + 999999) / 1000000;
}

bool HasActor(std::optional<absl::string_view> actor_id) {
  return actor_id.has_value() && !actor_id->empty();
}

// The key of the window a check counts in, built before CountInWindow
// locks (the lock guards only the window). Built in this thread's buffer,
// which keeps its capacity, so a warm thread builds keys without
// allocating; the view is valid until the thread's next call. The
// client's part is bounded (an IP in canonical form, a long id digested);
// the endpoint's is its rate_limit_key (method, route and limits: new
// limits start new windows, and the old ones expire).
absl::string_view WindowKey(const EndpointSettings& endpoint,
                            RateLimitDiscriminator kind,
                            absl::string_view client_part) {
  thread_local std::string key;
  key.clear();
  absl::StrAppend(&key, endpoint.rate_limit_key,
                  RateLimitDiscriminatorName(kind), kKeySeparator, client_part);
  return key;
}

}  // namespace

absl::string_view RateLimitPathName(RateLimitPath path) {
  switch (path) {
    case RateLimitPath::kNoLimit:
      return "no_limit";
    case RateLimitPath::kZone:
      return "zone";
    case RateLimitPath::kInProcess:
      return "in_process";
    case RateLimitPath::kZoneUnsupported:
      return "zone_unsupported";
    case RateLimitPath::kZoneBusy:
      return "zone_busy";
  }
  return "unknown";
}

absl::string_view RateLimitDiscriminatorName(RateLimitDiscriminator kind) {
  return kind == RateLimitDiscriminator::kUser ? "user" : "ip";
}

void AssignRateLimitDiscriminator(absl::string_view client_ip,
                                  std::optional<absl::string_view> actor_id,
                                  std::string* out) {
  if (HasActor(actor_id)) {
    out->assign("actor:");
    out->append(actor_id->data(), actor_id->size());
  } else {
    out->assign(client_ip.data(), client_ip.size());
  }
}

// The LRU map of windows, and the count of timestamps they hold together
// (what their memory grows with), both bounded.
class RateLimiter::Windows {
 public:
  Windows(size_t capacity, size_t max_timestamps)
      : map_(capacity), max_timestamps_(max_timestamps) {}

  Window* FindOrInsert(absl::string_view key) {
    if (Window* window = map_.Find(key)) return window;
    if (map_.size() >= map_.capacity()) EvictLeastRecent();
    return map_.FindOrInsert(key).value;
  }

  // Admits one request into `window` (the most recently used one).
  void Admit(Window* window, int64_t at_ns) {
    window->admitted.push_back(at_ns);
    ++timestamps_;
    // Over the budget: the least recently used windows go first; never the
    // one just used, which is at the front.
    while (timestamps_ > max_timestamps_ && map_.size() > 1) {
      EvictLeastRecent();
    }
  }

  void Expire(Window* window, int64_t now_ns) {
    const size_t before = window->admitted.size();
    window->Expire(now_ns);
    timestamps_ -= before - window->admitted.size();
  }

  // Drops windows at the LRU tail whose every request has expired; they
  // would admit the next request exactly like a new window.
  void ReclaimExpired(int64_t now_ns) {
    for (int i = 0; i < kExpiredWindowsReclaimedPerCheck; ++i) {
      LruMap<Window>::Entry* oldest = map_.LeastRecent();
      if (oldest == nullptr) return;
      const Window& window = oldest->value;
      if (!window.admitted.empty() &&
          window.admitted.back() + window.length_ns > now_ns) {
        return;
      }
      timestamps_ -= window.admitted.size();
      map_.PopLeastRecent();
    }
  }

  size_t size() const { return map_.size(); }
  uint64_t evicted() const { return evicted_; }

 private:
  void EvictLeastRecent() {
    LruMap<Window>::Entry* oldest = map_.LeastRecent();
    if (oldest == nullptr) return;
    timestamps_ -= oldest->value.admitted.size();
    map_.PopLeastRecent();
    ++evicted_;
  }

  LruMap<Window> map_;
  const size_t max_timestamps_;
  size_t timestamps_ = 0;
  uint64_t evicted_ = 0;
};

RateLimiter::RateLimiter(RateLimiterOptions options)
    : zone_(options.zone),
      zone_busy_wait_(options.zone_busy_wait),
      windows_(std::make_unique<Windows>(options.max_tracked_windows,
                                         options.max_tracked_requests)) {}

RateLimiter::~RateLimiter() = default;

std::optional<RateLimitResult> RateLimiter::Check(
    RouteView route, absl::string_view client_ip,
    std::optional<absl::string_view> actor_id, const RuntimeSettings& settings,
    absl::Time now) {
  RateLimitResult result;
  if (Decide(route, client_ip, actor_id, settings, now,
             ZoneFallback::kInProcess, &result) == RateLimitPath::kNoLimit) {
    return std::nullopt;
  }
  AssignRateLimitDiscriminator(client_ip, actor_id, &result.discriminator);
  return result;
}

RateLimitPath RateLimiter::Decide(RouteView route, absl::string_view client_ip,
                                  std::optional<absl::string_view> actor_id,
                                  const RuntimeSettings& settings,
                                  absl::Time now, ZoneFallback fallback,
                                  RateLimitResult* result) {
  const EndpointSettings* endpoint =
      settings.FindEndpoint(route.method, route.path);
  if (endpoint == nullptr || !endpoint->rate_limiting.enabled) {
    return RateLimitPath::kNoLimit;
  }
  const bool has_actor = HasActor(actor_id);
  if (has_actor && settings.IsUserExcludedFromRateLimiting(*actor_id)) {
    return RateLimitPath::kNoLimit;
  }
  // Parsed once, for the bypass list and for the key of an IP's window.
  const std::optional<IpAddress> ip = IpAddress::Parse(client_ip);
  if (ip.has_value() && settings.config().IsIpBypassed(*ip)) {
    return RateLimitPath::kNoLimit;
  }

  result->discriminator_kind =
      has_actor ? RateLimitDiscriminator::kUser : RateLimitDiscriminator::kIp;
  result->max_requests = endpoint->rate_limiting.max_requests;
  KeyBuffer client_key;
  const absl::string_view key =
      WindowKey(*endpoint, result->discriminator_kind,
                has_actor ? BoundedKeyView(*actor_id, &client_key)
                          : ClientIpKeyView(client_ip, ip, &client_key));
  const int64_t length_ns =
      absl::ToInt64Nanoseconds(endpoint->rate_limiting.window);
  const int64_t now_ns = absl::ToUnixNanos(now);
  if (zone_ != nullptr) {
    ZoneCount count;
    ZoneOutcome outcome = ZoneOutcome::kBusy;
    bool waited = false;  // found busy now, not skipped as busy before
    if (now_ns >= zone_busy_until_ns_.load(std::memory_order_relaxed)) {
      outcome =
          zone_->Count(key, length_ns, result->max_requests, now_ns, &count);
      // The parent tries longer: a holder preempted for more than one
      // lock_timeout on a loaded machine would otherwise make it count
      // apart from the zone (the degraded mode below) for a second.
      if (outcome == ZoneOutcome::kBusy &&
          fallback == ZoneFallback::kInProcess) {
        const absl::Time give_up = zen::Now() + zone_busy_wait_;
        while (outcome == ZoneOutcome::kBusy && zen::Now() < give_up) {
          outcome = zone_->Count(key, length_ns, result->max_requests, now_ns,
                                 &count);
        }
      }
      if (outcome == ZoneOutcome::kBusy) {
        waited = true;
        int64_t until;
        if (__builtin_add_overflow(
                now_ns, absl::ToInt64Nanoseconds(kZoneBusyRetryInterval),
                &until)) {
          until = INT64_MAX;
        }
        zone_busy_until_ns_.store(until, std::memory_order_relaxed);
      }
    }
    switch (outcome) {
      case ZoneOutcome::kCounted:
        result->throttled = count.throttled;
        result->current_requests = count.current_requests;
        result->time_remaining_ms = count.time_remaining_ms;
        result->time_remaining_seconds = (count.time_remaining_ms + 999) / 1000;
        return RateLimitPath::kZone;
      case ZoneOutcome::kUnsupported:
        zone_unsupported_.fetch_add(1, std::memory_order_relaxed);
        if (fallback == ZoneFallback::kReport) {
          return RateLimitPath::kZoneUnsupported;
        }
        break;
      case ZoneOutcome::kBusy:
        zone_busy_.fetch_add(1, std::memory_order_relaxed);
        if (fallback == ZoneFallback::kReport) return RateLimitPath::kZoneBusy;
        // At most once per retry interval, and throttled further: the
        // checks that skip the zone meanwhile neither wait nor allocate.
        if (waited) WarnZoneBusy(now);
        break;
    }
  }
  CountInWindow(key, length_ns, now_ns, result);
  return RateLimitPath::kInProcess;
}

void RateLimiter::WarnZoneBusy(absl::Time now) {
  // Called after a wait of lock_timeout: building the text costs nothing
  // that matters beside it.
  zone_busy_log_.Log(
      LogLevel::kWarning,
      absl::StrCat("rate-limit zone busy (its lock held past its timeout): "
                   "counting in this process's own windows until it is "
                   "free; meanwhile a limit may admit up to twice its "
                   "maximum (",
                   zone_busy_.load(std::memory_order_relaxed),
                   " busy checks so far)"),
      now);
}

void RateLimiter::CountInWindow(absl::string_view key, int64_t length_ns,
                                int64_t now_ns, RateLimitResult* result) {
  MutexLock lock(&mu_);
  Window* window = windows_->FindOrInsert(key);
  window->length_ns = length_ns;
  windows_->Expire(window, now_ns);
  TimestampRing& admitted = window->admitted;
  result->throttled =
      static_cast<int64_t>(admitted.size()) >= result->max_requests;
  if (!result->throttled) {
    // Keep the log sorted even if a racing caller's `now` was later.
    windows_->Admit(
        window, admitted.empty() ? now_ns : std::max(now_ns, admitted.back()));
  }
  result->current_requests = static_cast<int64_t>(admitted.size());
  result->time_remaining_ms = 0;
  if (!admitted.empty()) {
    result->time_remaining_ms =
        CeilMillis(admitted.front() + length_ns - now_ns);
  } else if (result->throttled) {
    result->time_remaining_ms = CeilMillis(length_ns);  // maxRequests 0
  }
  windows_->ReclaimExpired(now_ns);
  result->time_remaining_seconds = (result->time_remaining_ms + 999) / 1000;
}

size_t RateLimiter::tracked_windows() const {
  const size_t in_zone = zone_ != nullptr ? zone_->tracked_windows() : 0;
  MutexLock lock(&mu_);
  return in_zone + windows_->size();
}

uint64_t RateLimiter::evicted_windows() const {
  const uint64_t in_zone = zone_ != nullptr ? zone_->evicted_windows() : 0;
  MutexLock lock(&mu_);
  return in_zone + windows_->evicted();
}

}  // namespace zen
