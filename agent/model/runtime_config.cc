#include "agent/model/runtime_config.h"

#include <simdjson.h>

#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/model/json_fields.h"
#include "base/status_macros.h"

namespace zen {
namespace {

using json_fields::ArrayField;
using json_fields::BoolField;
using json_fields::FieldPath;
using json_fields::IndexPath;
using json_fields::IntField;
using json_fields::ObjectField;
using json_fields::ObjectValue;
using json_fields::StringField;

// Reads an optional array of addresses and CIDR blocks into an IpSet.
absl::StatusOr<IpSet> ParseIpSet(simdjson::dom::object object,
                                 absl::string_view key,
                                 absl::string_view path) {
  ZEN_ASSIGN_OR_RETURN(std::optional<simdjson::dom::array> array,
                       ArrayField(object, key, path));
  if (!array.has_value()) return IpSet();
  return json_fields::IpSetValue(*array, FieldPath(path, key));
}

// Reads an optional array of user ids into a set.
absl::StatusOr<absl::flat_hash_set<std::string>> ParseIdSet(
    simdjson::dom::object object, absl::string_view key,
    absl::string_view path) {
  ZEN_ASSIGN_OR_RETURN(std::optional<simdjson::dom::array> array,
                       ArrayField(object, key, path));
  absl::flat_hash_set<std::string> ids;
  if (!array.has_value()) return ids;
  const std::string array_path = FieldPath(path, key);
  size_t index = 0;
  for (simdjson::dom::element value : *array) {
    ZEN_ASSIGN_OR_RETURN(
        std::string id,
        json_fields::IdValue(value, IndexPath(array_path, index)));
    ids.insert(std::move(id));
    ++index;
  }
  return ids;
}

absl::StatusOr<RateLimitSettings> ParseRateLimiting(
    simdjson::dom::object endpoint, absl::string_view endpoint_path) {
  RateLimitSettings settings;
  ZEN_ASSIGN_OR_RETURN(std::optional<simdjson::dom::object> object,
                       ObjectField(endpoint, "rateLimiting", endpoint_path));
  if (!object.has_value()) return settings;
  const std::string path = FieldPath(endpoint_path, "rateLimiting");
  ZEN_ASSIGN_OR_RETURN(settings.enabled,
                       BoolField(*object, "enabled", false, path));
  ZEN_ASSIGN_OR_RETURN(settings.max_requests,
                       IntField(*object, "maxRequests", 0, path));
  ZEN_ASSIGN_OR_RETURN(const int64_t window_ms,
                       IntField(*object, "windowSizeInMS", 0, path));
  if (settings.max_requests < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".maxRequests: must not be negative"));
  }
  if (settings.max_requests > RateLimitSettings::kMaxRequests) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ".maxRequests: at most ", RateLimitSettings::kMaxRequests));
  }
  if (window_ms < 0 || (settings.enabled && window_ms == 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".windowSizeInMS: must be positive"));
  }
  if (window_ms > RateLimitSettings::kMaxWindowMs) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".windowSizeInMS: at most ",
                     RateLimitSettings::kMaxWindowMs, " (a year)"));
  }
  settings.window = absl::Milliseconds(window_ms);
  return settings;
}

absl::StatusOr<EndpointSettings> ParseEndpoint(simdjson::dom::element value,
                                               absl::string_view path) {
  ZEN_ASSIGN_OR_RETURN(simdjson::dom::object object, ObjectValue(value, path));
  EndpointSettings endpoint;
  ZEN_ASSIGN_OR_RETURN(endpoint.method,
                       StringField(object, "method", "", path));
  ZEN_ASSIGN_OR_RETURN(endpoint.route, StringField(object, "route", "", path));
  if (endpoint.method.empty() || endpoint.route.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": an endpoint needs a method and a route"));
  }
  ZEN_ASSIGN_OR_RETURN(endpoint.force_protection_off,
                       BoolField(object, "forceProtectionOff", false, path));
  ZEN_ASSIGN_OR_RETURN(endpoint.allowed_ips,
                       ParseIpSet(object, "allowedIPAddresses", path));
  ZEN_ASSIGN_OR_RETURN(endpoint.rate_limiting, ParseRateLimiting(object, path));
  // NUL cannot occur in a method, which keeps "a" + "b\0c" distinct from
  // "a\0b" + "c"; the limits are fixed-width.
  const int64_t limits[2] = {
      endpoint.rate_limiting.max_requests,
      absl::ToInt64Nanoseconds(endpoint.rate_limiting.window)};
  endpoint.rate_limit_key = absl::StrCat(
      endpoint.method, absl::string_view("\0", 1), endpoint.route,
      absl::string_view("\0", 1),
      absl::string_view(reinterpret_cast<const char*>(limits), sizeof(limits)));
  return endpoint;
}

}  // namespace

absl::StatusOr<RuntimeConfig> RuntimeConfig::Parse(absl::string_view json) {
  if (absl::StripAsciiWhitespace(json).empty()) return RuntimeConfig();
  simdjson::dom::parser parser;
  ZEN_ASSIGN_OR_RETURN(simdjson::dom::element root,
                       json_fields::ParseDocument(
                           &parser, json, "runtime config", kMaxDocumentBytes));
  if (root.is_null()) return RuntimeConfig();
  ZEN_ASSIGN_OR_RETURN(simdjson::dom::object object,
                       ObjectValue(root, "runtime config"));
  // Field errors name only the field; say which document they are in.
  absl::StatusOr<RuntimeConfig> parsed =
      [&]() -> absl::StatusOr<RuntimeConfig> {
    RuntimeConfig config;
    config.present_ = true;
    ZEN_ASSIGN_OR_RETURN(const int64_t updated_at_ms,
                         IntField(object, "configUpdatedAt", 0, ""));
    config.updated_at_ = absl::FromUnixMillis(updated_at_ms);
    ZEN_ASSIGN_OR_RETURN(
        const int64_t heartbeat_ms,
        IntField(object, "heartbeatIntervalInMS",
                 absl::ToInt64Milliseconds(kDefaultHeartbeatInterval), ""));
    if (heartbeat_ms <= 0) {
      return absl::InvalidArgumentError(
          "heartbeatIntervalInMS: must be positive");
    }
    config.heartbeat_interval_ = absl::Milliseconds(heartbeat_ms);
    ZEN_ASSIGN_OR_RETURN(config.block_, BoolField(object, "block", false, ""));

    ZEN_ASSIGN_OR_RETURN(std::optional<simdjson::dom::array> endpoints,
                         ArrayField(object, "endpoints", ""));
    if (endpoints.has_value()) {
      config.endpoints_.reserve(endpoints->size());
      for (simdjson::dom::element value : *endpoints) {
        const size_t index = config.endpoints_.size();
        ZEN_ASSIGN_OR_RETURN(
            EndpointSettings endpoint,
            ParseEndpoint(value, IndexPath("endpoints", index)));
        config.endpoints_.push_back(std::move(endpoint));
      }
    }
    std::vector<std::pair<absl::string_view, absl::string_view>> routes;
    routes.reserve(config.endpoints_.size());
    for (const EndpointSettings& endpoint : config.endpoints_) {
      routes.emplace_back(endpoint.method, endpoint.route);
    }
    config.matcher_ = EndpointMatcher(routes);

    ZEN_ASSIGN_OR_RETURN(config.blocked_user_ids_,
                         ParseIdSet(object, "blockedUserIds", ""));
    ZEN_ASSIGN_OR_RETURN(
        config.rate_limit_excluded_user_ids_,
        ParseIdSet(object, "excludedUserIdsFromRateLimiting", ""));
    ZEN_ASSIGN_OR_RETURN(config.bypassed_ips_,
                         ParseIpSet(object, "allowedIPAddresses", ""));
    return config;
  }();
  if (!parsed.ok()) {
    return absl::Status(
        parsed.status().code(),
        absl::StrCat("runtime config: ", parsed.status().message()));
  }
  return parsed;
}

const EndpointSettings* RuntimeConfig::FindEndpoint(
    absl::string_view method, absl::string_view route) const {
  const size_t index = matcher_.Match(method, route);
  return index == EndpointMatcher::kNone ? nullptr : &endpoints_[index];
}

bool RuntimeConfig::IsProtectionForcedOff(absl::string_view method,
                                          absl::string_view route) const {
  bool off = false;
  ForEachMatchingEndpoint(method, route, [&off](const EndpointSettings& e) {
    off = e.force_protection_off;
    return !off;
  });
  return off;
}

bool RuntimeConfig::IsIpAllowedOnRoute(
    absl::string_view method, absl::string_view route,
    const std::optional<IpAddress>& ip) const {
  bool restricted = false;
  bool listed = false;
  ForEachMatchingEndpoint(method, route, [&](const EndpointSettings& e) {
    if (e.allowed_ips.empty()) return true;
    restricted = true;
    listed = ip.has_value() && e.allowed_ips.Contains(*ip);
    return !listed;
  });
  return !restricted || listed;
}

bool RuntimeConfig::IsUserBlocked(absl::string_view user_id) const {
  return blocked_user_ids_.contains(user_id);
}

bool RuntimeConfig::IsUserExcludedFromRateLimiting(
    absl::string_view user_id) const {
  return rate_limit_excluded_user_ids_.contains(user_id);
}

}  // namespace zen
