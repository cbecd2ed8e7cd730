#include "capi/options_json.h"

#include <signal.h>
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace zen::capi {
namespace {

constexpr size_t kMaxOptionsBytes = size_t{1} << 20;
// Durations past this (about 31 years) are surely a mistake of units.
constexpr double kMaxDurationMs = 1e12;

// Reads the keys of one JSON object that the caller asks for, remembers the
// first error, and at Finish() refuses every key nobody asked for.
class ObjectReader {
 public:
  ObjectReader(simdjson::dom::object object, std::string path,
               absl::Status* error)
      : object_(object), path_(std::move(path)), error_(error) {}

  void Bool(const char* key, bool* out) {
    simdjson::dom::element value;
    if (!Find(key, &value)) return;
    bool b = false;
    if (value.get(b) != simdjson::SUCCESS) return Fail(key, "a boolean");
    *out = b;
  }

  void Integer(const char* key, int64_t min, int64_t max, int64_t* out) {
    simdjson::dom::element value;
    if (!Find(key, &value)) return;
    int64_t n = 0;
    if (value.get(n) != simdjson::SUCCESS || n < min || n > max) {
      return Fail(key, absl::StrCat("an integer in [", min, ", ", max, "]"));
    }
    *out = n;
  }

  template <typename T>
  void Count(const char* key, T* out) {
    int64_t n = static_cast<int64_t>(*out);
    const int64_t max =
        static_cast<uint64_t>(std::numeric_limits<T>::max()) >
                static_cast<uint64_t>(INT64_MAX)
            ? INT64_MAX
            : static_cast<int64_t>(std::numeric_limits<T>::max());
    Integer(key, 0, max, &n);
    *out = static_cast<T>(n);
  }

  void String(const char* key, std::string* out) {
    simdjson::dom::element value;
    if (!Find(key, &value)) return;
    std::string_view text;
    if (value.get(text) != simdjson::SUCCESS) return Fail(key, "a string");
    *out = std::string(text);
  }

  // A number of milliseconds, fractions allowed, in [0, kMaxDurationMs].
  void DurationMs(const char* key, absl::Duration* out) {
    simdjson::dom::element value;
    if (!Find(key, &value)) return;
    double ms = 0;
    if (value.get(ms) != simdjson::SUCCESS || !std::isfinite(ms) || ms < 0 ||
        ms > kMaxDurationMs) {
      return Fail(key, "a number of milliseconds in [0, 1e12]");
    }
    *out = absl::Nanoseconds(static_cast<int64_t>(std::llround(ms * 1e6)));
  }

  // The nested object under `key`, read by `read`; absent is fine.
  template <typename Read>
  void Object(const char* key, Read read) {
    simdjson::dom::element value;
    if (!Find(key, &value)) return;
    simdjson::dom::object object;
    if (value.get(object) != simdjson::SUCCESS) return Fail(key, "an object");
    ObjectReader nested(object, Path(key), error_);
    read(nested);
    nested.Finish();
  }

  void Fail(absl::string_view key, absl::string_view expected) {
    if (!error_->ok()) return;
    *error_ = absl::InvalidArgumentError(
        absl::StrCat("option '", Path(key), "' must be ", expected));
  }

  // Refuses the keys nobody asked for, naming them all.
  void Finish() {
    std::vector<std::string> unknown;
    for (simdjson::dom::key_value_pair field : object_) {
      const std::string key(field.key);
      bool known = false;
      for (const std::string& asked : asked_) known = known || asked == key;
      if (!known) unknown.push_back(Path(key));
    }
    if (unknown.empty() || !error_->ok()) return;
    std::string names;
    for (const std::string& name : unknown) {
      absl::StrAppend(&names, names.empty() ? "'" : ", '", name, "'");
    }
    *error_ = absl::InvalidArgumentError(absl::StrCat(
        unknown.size() == 1 ? "unknown option " : "unknown options ", names));
  }

 private:
  std::string Path(absl::string_view key) const {
    return path_.empty() ? std::string(key) : absl::StrCat(path_, ".", key);
  }

  // False when `key` is absent or null (the default stays).
  bool Find(const char* key, simdjson::dom::element* value) {
    asked_.emplace_back(key);
    if (object_[key].get(*value) != simdjson::SUCCESS) return false;
    return !value->is_null();
  }

  simdjson::dom::object object_;
  std::string path_;
  absl::Status* error_;
  std::vector<std::string> asked_;
};

void ReadAttackWave(ObjectReader& r, AttackWaveOptions* o) {
  r.Count("threshold", &o->threshold);
  r.DurationMs("request_ttl_ms", &o->request_ttl);
  r.DurationMs("cooldown_ms", &o->cooldown);
  r.Count("max_samples", &o->max_samples);
  r.Count("max_tracked_ips", &o->max_tracked_ips);
}

void ReadServer(ObjectReader& r, rpc::ServerOptions* o) {
  ipc::ListenerOptions& l = o->listener;
  r.DurationMs("idle_timeout_ms", &o->idle_timeout);
  r.Count("max_in_flight_per_connection", &o->max_in_flight_per_connection);
  r.DurationMs("inline_handler_budget_ms", &o->inline_handler_budget);
  r.Count("max_relieved_handlers", &o->max_relieved_handlers);
  r.Count("max_json_depth", &o->max_json_depth);
  r.Count("max_large_frame_bytes", &o->max_large_frame_bytes);
  int64_t backlog = l.backlog;
  r.Integer("backlog", 1, 65535, &backlog);
  l.backlog = static_cast<int>(backlog);
  r.DurationMs("handshake_timeout_ms", &l.handshake_timeout);
  r.Count("max_pending_handshakes", &l.max_pending_handshakes);
  r.Count("max_connections", &l.max_connections);
  r.Count("max_frame_size", &l.stream.max_frame_size);
  r.DurationMs("write_timeout_ms", &l.stream.write_timeout);
  r.DurationMs("spin_before_block_ms", &l.stream.spin_before_block);
}

void ReadCollector(ObjectReader& r, CollectorOptions* o) {
  r.Count("max_routes", &o->max_routes);
  r.Count("max_users", &o->max_users);
  r.Count("max_hosts", &o->max_hosts);
  r.Count("max_sinks", &o->max_sinks);
  r.Count("max_attack_kinds", &o->max_attack_kinds);
  r.Count("max_user_agents", &o->max_user_agents);
  r.Count("max_ip_lists", &o->max_ip_lists);
  r.Count("max_timing_samples", &o->max_timing_samples);
  r.Count("max_compressed_timings", &o->max_compressed_timings);
  r.Count("api_schema_max_samples", &o->api_schema_max_samples);
  r.Count("max_schema_parts", &o->max_schema_parts);
}

void ReadClient(ObjectReader& r, AgentClientOptions* o) {
  r.DurationMs("keepalive_interval_ms", &o->keepalive_interval);
  r.DurationMs("polling_interval_ms", &o->polling_interval);
  r.DurationMs("polling_jitter_ms", &o->polling_jitter);
  r.Bool("watch_settings", &o->watch_settings);
  r.DurationMs("watch_wait_ms", &o->watch_wait);
  r.DurationMs("flush_interval_ms", &o->flush_interval);
  r.DurationMs("call_timeout_ms", &o->call_timeout);
  r.DurationMs("rate_limit_timeout_ms", &o->rate_limit_timeout);
  r.DurationMs("attack_wave_timeout_ms", &o->attack_wave_timeout);
  r.Object("attack_wave",
           [o](ObjectReader& n) { ReadAttackWave(n, &o->attack_wave); });
  r.Count("max_buffered_events", &o->max_buffered_events);
  r.DurationMs("reconnect_delay_ms", &o->reconnect_delay);
  r.DurationMs("spin_before_block_ms", &o->spin_before_block);
  r.DurationMs("parent_check_interval_ms", &o->parent_check_interval);
  r.DurationMs("dead_parent_max_retry_delay_ms",
               &o->dead_parent_max_retry_delay);
  r.DurationMs("log_interval_ms", &o->log_interval);
}

void ReadTop(ObjectReader& r, AgentOptions* o) {
  ipc::ListenerOptions& l = o->server.server.listener;
  std::string transport = "tcp";
  r.String("transport", &transport);
  if (transport == "tcp") {
    l.transport = ipc::Transport::kTcp;
  } else if (transport == "unix") {
    l.transport = ipc::Transport::kUnix;
  } else {
    r.Fail("transport", "\"tcp\" or \"unix\"");
  }
  r.String("host", &l.host);
  int64_t port = l.port;
  r.Integer("port", 0, 65535, &port);
  l.port = static_cast<uint16_t>(port);
  r.String("unix_parent_dir", &l.unix_parent_dir);
  r.Bool("refuse_other_uid", &l.refuse_other_uid);
  r.Bool("require_descendant", &l.require_descendant);
  r.Bool("exit_with_parent", &o->exit_with_parent);
  int64_t signal = o->exit_with_parent_signal;
  r.Integer("exit_with_parent_signal", 1, SIGRTMAX, &signal);
  o->exit_with_parent_signal = static_cast<int>(signal);
  r.Object("server",
           [o](ObjectReader& n) { ReadServer(n, &o->server.server); });
  r.Object("collector",
           [o](ObjectReader& n) { ReadCollector(n, &o->server.collector); });
  r.Object("rate_limiter", [o](ObjectReader& n) {
    n.Count("max_tracked_windows", &o->server.rate_limiter.max_tracked_windows);
    n.Count("max_tracked_requests",
            &o->server.rate_limiter.max_tracked_requests);
  });
  r.Object("rate_limit_zone", [o](ObjectReader& n) {
    AgentRateLimitZoneOptions& zone = o->rate_limit_zone;
    n.Bool("enabled", &zone.enabled);
    n.Count("bytes", &zone.bytes);
    // RateLimitZone's bounds; bytes too few for two windows are refused by
    // zen_agent_create, which knows the window size.
    int64_t requests = static_cast<int64_t>(zone.max_requests_per_window);
    n.Integer("max_requests_per_window", 1, int64_t{1} << 20, &requests);
    zone.max_requests_per_window = static_cast<size_t>(requests);
    n.DurationMs("lock_timeout_ms", &zone.lock_timeout);
  });
  r.Object("attack_wave",
           [o](ObjectReader& n) { ReadAttackWave(n, &o->server.attack_wave); });
  r.Object("worker_metrics", [o](ObjectReader& n) {
    n.Count("max_methods", &o->server.worker_metrics.max_methods);
  });
  r.Object("client", [o](ObjectReader& n) { ReadClient(n, &o->client); });
}

}  // namespace

absl::StatusOr<AgentOptions> ParseAgentOptions(absl::string_view json) {
  AgentOptions options;
  if (absl::StripAsciiWhitespace(json).empty()) return options;
  if (json.size() > kMaxOptionsBytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "options: ", json.size(), " bytes (max: ", kMaxOptionsBytes, ")"));
  }
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json.data(), json.size());
  simdjson::dom::element root;
  if (simdjson::error_code e = parser.parse(padded).get(root)) {
    return absl::InvalidArgumentError(
        absl::StrCat("options are not JSON: ", simdjson::error_message(e)));
  }
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("options must be one JSON object");
  }
  absl::Status error;
  ObjectReader reader(object, "", &error);
  ReadTop(reader, &options);
  reader.Finish();
  if (!error.ok()) return error;
  return options;
}

}  // namespace zen::capi
