// The C ABI: the parent's statistics and monitoring, and every process's
// own counters.
#include <string>

#include "absl/strings/str_cat.h"
#include "agent/model/heartbeat.h"
#include "base/status_macros.h"
#include "capi/handle.h"
#include "capi/impl.h"

using zen::capi::Guarded;

namespace {

// Appends `"key":value,` (the caller drops the last comma).
template <typename T>
void Field(std::string* json, const char* key, T value) {
  absl::StrAppend(json, "\"", key, "\":", value, ",");
}

void Bool(std::string* json, const char* key, bool value) {
  absl::StrAppend(json, "\"", key, "\":", value ? "true" : "false", ",");
}

void AppendClientStats(const zen::AgentClient& client, std::string* json) {
  const zen::AgentClientStats s = client.stats();
  *json += "\"client\":{";
  Bool(json, "connected", client.connected());
  Field(json, "events_recorded", s.events_recorded);
  Field(json, "events_sent", s.events_sent);
  Field(json, "events_dropped", s.events_dropped);
  Field(json, "flush_failures", s.flush_failures);
  Field(json, "settings_polls", s.settings_polls);
  Field(json, "settings_watches", s.settings_watches);
  Field(json, "settings_applied", s.settings_applied);
  Field(json, "rate_limit_fallbacks", s.rate_limit_fallbacks);
  Field(json, "attack_wave_fallbacks", s.attack_wave_fallbacks);
  Field(json, "config_generation", s.config_generation.value_or(0));
  Field(json, "firewall_lists_generation",
        s.firewall_lists_generation.value_or(0));
  json->back() = '}';
  *json += ',';
}

void AppendServerStats(zen::AgentServer& server, std::string* json) {
  const zen::rpc::ServerStats s = server.server_stats();
  *json += "\"server\":{";
  Field(json, "calls", s.calls);
  Field(json, "connections", s.connections);
  Field(json, "malformed_ignored", s.malformed_ignored);
  Field(json, "dropped_non_json", s.dropped_non_json);
  Field(json, "rejected_over_limit", s.rejected_over_limit);
  Field(json, "refused_no_thread", s.refused_no_thread);
  Field(json, "large_frames_refused", s.large_frames_refused);
  Field(json, "settings_watches_waiting", server.settings_watches_waiting());
  Field(json, "unreadable_events", server.unreadable_events());
  Field(json, "rate_limit_windows", server.rate_limiter().tracked_windows());
  json->back() = '}';
  *json += ',';
}

}  // namespace

extern "C" {

zen_status zen_impl_agent_heartbeat(zen_agent* agent, int start_new_period,
                                    const char* agent_info_json,
                                    size_t agent_info_json_len, char** json_out,
                                    size_t* json_len, char** message) {
  zen::capi::ClearOut(json_out, json_len);
  return Guarded(message, [&]() -> absl::Status {
    if (json_out == nullptr) {
      return absl::InvalidArgumentError("json_out is NULL");
    }
    ZEN_RETURN_IF_ERROR(zen::capi::CheckParent(agent, "zen_agent_heartbeat"));
    absl::string_view info;
    ZEN_RETURN_IF_ERROR(zen::capi::ReadText(
        agent_info_json, agent_info_json_len, "agent_info_json", &info));
    zen::HeartbeatOptions options;
    options.agent_json = std::string(info);
    zen::Collector& collector =
        zen::capi::AgentOf(agent)->server()->collector();
    // Checked before the period ends, so a bad block loses no statistics.
    if (!options.agent_json.empty()) {
      absl::StatusOr<std::string> probe =
          zen::HeartbeatJson(zen::CollectorStats(), options);
      if (!probe.ok()) return probe.status();
    }
    absl::StatusOr<std::string> document = zen::HeartbeatJson(
        start_new_period != 0 ? collector.Flush() : collector.Snapshot(),
        options);
    if (!document.ok()) return document.status();
    return zen::capi::SetOut(*document, json_out, json_len);
  });
}

zen_status zen_impl_agent_mark_middleware_installed(zen_agent* agent,
                                                    char** message) {
  return Guarded(message, [&]() -> absl::Status {
    ZEN_RETURN_IF_ERROR(
        zen::capi::CheckParent(agent, "zen_agent_mark_middleware_installed"));
    zen::capi::AgentOf(agent)->server()->collector().MarkMiddlewareInstalled();
    return absl::OkStatus();
  });
}

zen_status zen_impl_agent_metrics(zen_agent* agent, char** text_out,
                                  size_t* text_len, char** message) {
  zen::capi::ClearOut(text_out, text_len);
  return Guarded(message, [&]() -> absl::Status {
    if (text_out == nullptr) {
      return absl::InvalidArgumentError("text_out is NULL");
    }
    ZEN_RETURN_IF_ERROR(zen::capi::CheckParent(agent, "zen_agent_metrics"));
    std::string text;
    zen::capi::AgentOf(agent)->server()->WriteMetrics(&text);
    return zen::capi::SetOut(text, text_out, text_len);
  });
}

zen_status zen_impl_agent_stats_json(zen_agent* agent, char** json_out,
                                     size_t* json_len, char** message) {
  zen::capi::ClearOut(json_out, json_len);
  return Guarded(message, [&]() -> absl::Status {
    if (json_out == nullptr) {
      return absl::InvalidArgumentError("json_out is NULL");
    }
    if (absl::Status s = zen::capi::CheckUsable(agent); !s.ok()) return s;
    std::string json = "{";
    Bool(&json, "is_parent", zen::capi::AgentOf(agent)->is_parent());
    Bool(&json, "parent_alive", zen::capi::AgentOf(agent)->parent_alive());
    zen::AgentClient* client = nullptr;
    if (zen::capi::ClientOf(agent, &client).ok()) {
      AppendClientStats(*client, &json);
    }
    if (zen::AgentServer* server = zen::capi::AgentOf(agent)->server()) {
      AppendServerStats(*server, &json);
    }
    json.back() = '}';
    return zen::capi::SetOut(json, json_out, json_len);
  });
}

}  // extern "C"
