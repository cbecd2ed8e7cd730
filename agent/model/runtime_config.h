// The runtime config document (the API's /api/runtime/config response),
// parsed into what a request check needs.
//
// Keys are the API's camelCase ones:
//
//   {"configUpdatedAt": 1700000000000,        // ms since the epoch
//    "heartbeatIntervalInMS": 600000,
//    "block": true,
//    "endpoints": [{"method": "POST", "route": "/login",
//                   "forceProtectionOff": false,
//                   "allowedIPAddresses": ["10.0.0.0/8"],
//                   "rateLimiting": {"enabled": true, "maxRequests": 10,
//                                    "windowSizeInMS": 60000}}],
//    "blockedUserIds": ["u1"],
//    "allowedIPAddresses": ["1.2.3.4"],
//    "excludedUserIdsFromRateLimiting": ["admin"]}
//
// Unknown keys are ignored; an absent or null key takes its default (see the
// accessors). A document is accepted or rejected as a whole.
#ifndef ZEN_AGENT_MODEL_RUNTIME_CONFIG_H_
#define ZEN_AGENT_MODEL_RUNTIME_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "agent/model/endpoint_matcher.h"
#include "agent/model/ip_set.h"

namespace zen {

struct RateLimitSettings {
  // The largest values a config may give: a window a year long, a million
  // requests per window (the wire's max_requests is 32-bit, and a window
  // keeps a timestamp per admitted request). Larger is a config error, not
  // a silent clamp or an overflow.
  static constexpr int64_t kMaxWindowMs = int64_t{366} * 24 * 3600 * 1000;
  static constexpr int64_t kMaxRequests = 1000000;

  bool enabled = false;
  // Requests admitted per window; 0 admits none.
  int64_t max_requests = 0;
  absl::Duration window = absl::ZeroDuration();
};

struct EndpointSettings {
  // As configured: an HTTP method, or "*" for every method.
  std::string method;
  std::string route;
  bool force_protection_off = false;
  // When not empty, only these addresses may use the endpoint (see
  // RuntimeConfig::IsIpAllowedOnRoute). They are rate limited like others.
  IpSet allowed_ips;
  RateLimitSettings rate_limiting;
  // What the rate limiter keys this endpoint's windows by: the method, the
  // route and the limits, so that endpoints with equal keys (the same
  // endpoint in two documents, limits unchanged) share windows and new
  // limits start new ones. Opaque bytes; set by RuntimeConfig::Parse.
  std::string rate_limit_key;
};

// An immutable, parsed runtime config. Copyable and movable; thread-safe for
// concurrent const use.
class RuntimeConfig {
 public:
  // Documents larger than this are rejected (kResourceExhausted).
  static constexpr size_t kMaxDocumentBytes = size_t{64} << 20;
  static constexpr absl::Duration kDefaultHeartbeatInterval = absl::Minutes(10);

  // No config yet: present() is false and every accessor gives its default.
  RuntimeConfig() = default;

  // Parses the document. Empty text (or only whitespace) and `null` mean "no
  // config yet" and give RuntimeConfig(). Errors, with a message that names
  // the field or entry: kInvalidArgument for malformed JSON, a top level
  // that is not an object, a present field of the wrong type, an endpoint
  // without method or route, negative limits, an enabled rate limit with a
  // window that is not positive, a heartbeat interval that is not positive,
  // or an address that is neither an IP address nor a CIDR block;
  // kResourceExhausted over kMaxDocumentBytes.
  static absl::StatusOr<RuntimeConfig> Parse(absl::string_view json);

  // False until a document (not `null`) has been parsed.
  bool present() const { return present_; }

  // `configUpdatedAt`; the Unix epoch by default.
  absl::Time updated_at() const { return updated_at_; }
  // `heartbeatIntervalInMS`; kDefaultHeartbeatInterval by default.
  absl::Duration heartbeat_interval() const { return heartbeat_interval_; }
  // `block`: whether detected attacks are blocked (else only reported).
  // False by default.
  bool block() const { return block_; }

  // In document order, duplicates included.
  const std::vector<EndpointSettings>& endpoints() const { return endpoints_; }

  // The endpoint a request's route falls under: an endpoint whose method
  // and route equal the request's byte for byte, else the first endpoint in
  // the matching order whose patterns match (endpoint_matcher.h, as the
  // reference's Endpoints#match). Rate limits follow it. Returns nullptr
  // when nothing matches. The pointer stays valid as long as this object.
  const EndpointSettings* FindEndpoint(absl::string_view method,
                                       absl::string_view route) const;

  // Calls `visit(endpoint)` for every endpoint whose patterns match the
  // route, in the matching order, until `visit` returns false (as the
  // reference's Endpoints#matches). Allocates nothing.
  template <typename Visit>
  void ForEachMatchingEndpoint(absl::string_view method,
                               absl::string_view route, Visit visit) const {
    matcher_.ForEachMatch(
        method, route, [&](size_t index) { return visit(endpoints_[index]); });
  }

  // Whether attack protection is off for the route: some matching endpoint
  // has `forceProtectionOff` (the reference's AttackProtector).
  bool IsProtectionForcedOff(absl::string_view method,
                             absl::string_view route) const;

  // Whether the endpoints' allow lists let `ip` use the route: true when no
  // matching endpoint has `allowedIPAddresses`, or one that has contains
  // `ip` (the reference's AllowedAddressChecker). An unknown address
  // (nullopt) is in no list.
  bool IsIpAllowedOnRoute(absl::string_view method, absl::string_view route,
                          const std::optional<IpAddress>& ip) const;

  // `blockedUserIds` contains `user_id`.
  bool IsUserBlocked(absl::string_view user_id) const;
  // `excludedUserIdsFromRateLimiting` contains `user_id`.
  bool IsUserExcludedFromRateLimiting(absl::string_view user_id) const;
  // `allowedIPAddresses` (the global bypass list) contains the address.
  bool IsIpBypassed(const IpAddress& ip) const {
    return bypassed_ips_.Contains(ip);
  }
  bool IsIpBypassed(absl::string_view ip) const {
    return bypassed_ips_.Contains(ip);
  }

 private:
  bool present_ = false;
  absl::Time updated_at_ = absl::UnixEpoch();
  absl::Duration heartbeat_interval_ = kDefaultHeartbeatInterval;
  bool block_ = false;
  std::vector<EndpointSettings> endpoints_;
  // Over endpoints_' methods and routes; it answers with indices, which
  // keep the class safely copyable.
  EndpointMatcher matcher_;
  absl::flat_hash_set<std::string> blocked_user_ids_;
  absl::flat_hash_set<std::string> rate_limit_excluded_user_ids_;
  IpSet bypassed_ips_;
};

}  // namespace zen

#endif  // ZEN_AGENT_MODEL_RUNTIME_CONFIG_H_
