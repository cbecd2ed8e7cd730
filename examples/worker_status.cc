#include "examples/worker_status.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "simdjson.h"

namespace zen::examples {
namespace {

// Debian's absl::string_view is its own type, not std::string_view, and
// simdjson takes the standard one.
std::string_view ToStd(absl::string_view s) { return {s.data(), s.size()}; }

absl::Status FieldError(absl::string_view key) {
  return absl::InvalidArgumentError(
      absl::StrCat("worker status: missing or mistyped field '", key, "'"));
}

absl::Status ReadInt(simdjson::dom::object object, absl::string_view key,
                     int64_t* out) {
  if (object[ToStd(key)].get_int64().get(*out) != simdjson::SUCCESS) {
    return FieldError(key);
  }
  return absl::OkStatus();
}

absl::Status ReadCount(simdjson::dom::object object, absl::string_view key,
                       uint64_t* out) {
  if (object[ToStd(key)].get_uint64().get(*out) != simdjson::SUCCESS) {
    return FieldError(key);
  }
  return absl::OkStatus();
}

// `"key":{count, p50_us, p99_us, max_us, buckets}`.
std::string HistogramJson(absl::string_view key, const LatencyHistogram& h) {
  const std::string buckets =
      absl::StrJoin(h.Buckets(), ",", [](std::string* out, const auto& b) {
        absl::StrAppend(out, "[", b.first, ",", b.second, "]");
      });
  return absl::StrCat(
      "\"", key, "\":{\"count\":", h.count(),
      ",\"p50_us\":", absl::ToInt64Microseconds(h.Percentile(0.5)),
      ",\"p99_us\":", absl::ToInt64Microseconds(h.Percentile(0.99)),
      ",\"max_us\":", absl::ToInt64Microseconds(h.max()), ",\"buckets\":[",
      buckets, "]}");
}

// Rebuilds a histogram from the buckets HistogramJson wrote under `key`.
absl::Status ReadHistogram(simdjson::dom::object root, absl::string_view key,
                           LatencyHistogram* out) {
  simdjson::dom::array buckets;
  if (root[ToStd(key)]["buckets"].get_array().get(buckets) !=
      simdjson::SUCCESS) {
    return FieldError(absl::StrCat(key, ".buckets"));
  }
  for (simdjson::dom::element bucket : buckets) {
    uint64_t lower = 0, count = 0;
    if (bucket.at(0).get_uint64().get(lower) != simdjson::SUCCESS ||
        bucket.at(1).get_uint64().get(count) != simdjson::SUCCESS) {
      return FieldError(absl::StrCat(key, ".buckets"));
    }
    out->AddToBucket(lower, count);
  }
  return absl::OkStatus();
}

}  // namespace

std::string WorkerStatusToJson(const WorkerStatus& s) {
  return absl::StrCat(
      "{\"pid\":", s.pid, ",\"requests\":", s.requests,
      ",\"allowed\":", s.allowed, ",\"blocked\":", s.blocked,
      ",\"rate_limited\":", s.rate_limited, ",\"unprotected\":", s.unprotected,
      ",\"config_generation\":", s.config_generation,
      ",\"firewall_lists_generation\":", s.firewall_lists_generation,
      ",\"config_applied_at_us\":", s.config_applied_at_us,
      ",\"firewall_lists_applied_at_us\":", s.firewall_lists_applied_at_us,
      ",\"agent_connected\":", s.agent_connected ? "true" : "false",
      ",\"events_recorded\":", s.events_recorded,
      ",\"events_sent\":", s.events_sent,
      ",\"events_dropped\":", s.events_dropped,
      ",\"flush_failures\":", s.flush_failures,
      ",\"settings_polls\":", s.settings_polls,
      ",\"rate_limit_fallbacks\":", s.rate_limit_fallbacks,
      ",\"rate_limits_from_zone\":", s.rate_limits_from_zone,
      ",\"rate_limits_zone_deferred\":", s.rate_limits_zone_deferred, ",",
      HistogramJson("rate_limit_rpc", s.rate_limit_latency), ",",
      HistogramJson("rate_limit_zone", s.zone_latency), "}");
}

absl::StatusOr<WorkerStatus> ParseWorkerStatus(absl::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("worker status: malformed JSON object");
  }
  WorkerStatus s;
  absl::Status status;
  auto keep_first = [&status](absl::Status next) { status.Update(next); };
  keep_first(ReadInt(root, "pid", &s.pid));
  keep_first(ReadCount(root, "requests", &s.requests));
  keep_first(ReadCount(root, "allowed", &s.allowed));
  keep_first(ReadCount(root, "blocked", &s.blocked));
  keep_first(ReadCount(root, "rate_limited", &s.rate_limited));
  keep_first(ReadCount(root, "unprotected", &s.unprotected));
  keep_first(ReadInt(root, "config_generation", &s.config_generation));
  keep_first(
      ReadInt(root, "firewall_lists_generation", &s.firewall_lists_generation));
  keep_first(ReadInt(root, "config_applied_at_us", &s.config_applied_at_us));
  keep_first(ReadInt(root, "firewall_lists_applied_at_us",
                     &s.firewall_lists_applied_at_us));
  if (root["agent_connected"].get_bool().get(s.agent_connected) !=
      simdjson::SUCCESS) {
    keep_first(FieldError("agent_connected"));
  }
  keep_first(ReadCount(root, "events_recorded", &s.events_recorded));
  keep_first(ReadCount(root, "events_sent", &s.events_sent));
  keep_first(ReadCount(root, "events_dropped", &s.events_dropped));
  keep_first(ReadCount(root, "flush_failures", &s.flush_failures));
  keep_first(ReadCount(root, "settings_polls", &s.settings_polls));
  keep_first(ReadCount(root, "rate_limit_fallbacks", &s.rate_limit_fallbacks));
  keep_first(
      ReadCount(root, "rate_limits_from_zone", &s.rate_limits_from_zone));
  keep_first(ReadCount(root, "rate_limits_zone_deferred",
                       &s.rate_limits_zone_deferred));
  keep_first(ReadHistogram(root, "rate_limit_rpc", &s.rate_limit_latency));
  keep_first(ReadHistogram(root, "rate_limit_zone", &s.zone_latency));
  if (!status.ok()) return status;
  return s;
}

}  // namespace zen::examples
