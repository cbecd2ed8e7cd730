// The C ABI: the settings documents (updated in the parent, read anywhere).
#include <memory>
#include <string>

#include "agent/model/settings_cache.h"
#include "base/status_macros.h"
#include "capi/handle.h"
#include "capi/impl.h"

using zen::capi::Guarded;

namespace {

enum class Document { kConfig, kFirewallLists };

zen_status Update(zen_agent* agent, Document which, const char* json,
                  size_t json_len, char** message) {
  return Guarded(message, [&]() -> absl::Status {
    const char* function = which == Document::kConfig
                               ? "zen_agent_update_config"
                               : "zen_agent_update_firewall_lists";
    ZEN_RETURN_IF_ERROR(zen::capi::CheckParent(agent, function));
    absl::string_view text;
    ZEN_RETURN_IF_ERROR(zen::capi::ReadText(json, json_len, "json", &text));
    zen::AgentServer* server = zen::capi::AgentOf(agent)->server();
    return which == Document::kConfig
               ? server->UpdateConfig(std::string(text))
               : server->UpdateFirewallLists(std::string(text));
  });
}

// In the parent, the server's cache (the bytes as received, updated at
// once); in a worker, what its client last applied.
zen_status Text(zen_agent* agent, Document which, char** json_out,
                size_t* json_len, char** message) {
  zen::capi::ClearOut(json_out, json_len);
  return Guarded(message, [&]() -> absl::Status {
    if (json_out == nullptr) {
      return absl::InvalidArgumentError("json_out is NULL");
    }
    if (absl::Status s = zen::capi::CheckUsable(agent); !s.ok()) return s;
    std::shared_ptr<const std::string> text;
    if (zen::AgentServer* server = zen::capi::AgentOf(agent)->server()) {
      zen::SettingsSnapshot snapshot = server->settings_cache().Snapshot();
      text = which == Document::kConfig ? snapshot.config
                                        : snapshot.firewall_lists;
      if (text != nullptr && (*text == "null")) text = nullptr;
    } else {
      zen::AgentClient* client = nullptr;
      ZEN_RETURN_IF_ERROR(zen::capi::ClientOf(agent, &client));
      std::shared_ptr<const zen::RuntimeSettings> settings = client->settings();
      text = which == Document::kConfig ? settings->config_json()
                                        : settings->firewall_lists_json();
    }
    if (text == nullptr) return absl::OkStatus();
    return zen::capi::SetOut(*text, json_out, json_len);
  });
}

}  // namespace

extern "C" {

zen_status zen_impl_agent_update_config(zen_agent* agent, const char* json,
                                        size_t json_len, char** message) {
  return Update(agent, Document::kConfig, json, json_len, message);
}

zen_status zen_impl_agent_update_firewall_lists(zen_agent* agent,
                                                const char* json,
                                                size_t json_len,
                                                char** message) {
  return Update(agent, Document::kFirewallLists, json, json_len, message);
}

zen_status zen_impl_agent_settings_generations(
    zen_agent* agent, int64_t* config_generation,
    int64_t* firewall_lists_generation, char** message) {
  if (config_generation != nullptr) *config_generation = 0;
  if (firewall_lists_generation != nullptr) *firewall_lists_generation = 0;
  return Guarded(message, [&]() -> absl::Status {
    if (absl::Status s = zen::capi::CheckUsable(agent); !s.ok()) return s;
    int64_t config = 0, lists = 0;
    if (zen::AgentServer* server = zen::capi::AgentOf(agent)->server()) {
      const zen::SettingsSnapshot snapshot =
          server->settings_cache().Snapshot();
      config = static_cast<int64_t>(snapshot.config_generation);
      lists = static_cast<int64_t>(snapshot.firewall_lists_generation);
    } else {
      zen::AgentClient* client = nullptr;
      ZEN_RETURN_IF_ERROR(zen::capi::ClientOf(agent, &client));
      const zen::AgentClientStats stats = client->stats();
      config = stats.config_generation.value_or(0);
      lists = stats.firewall_lists_generation.value_or(0);
    }
    if (config_generation != nullptr) *config_generation = config;
    if (firewall_lists_generation != nullptr) {
      *firewall_lists_generation = lists;
    }
    return absl::OkStatus();
  });
}

zen_status zen_impl_agent_config_json(zen_agent* agent, char** json_out,
                                      size_t* json_len, char** message) {
  return Text(agent, Document::kConfig, json_out, json_len, message);
}

zen_status zen_impl_agent_firewall_lists_json(zen_agent* agent, char** json_out,
                                              size_t* json_len,
                                              char** message) {
  return Text(agent, Document::kFirewallLists, json_out, json_len, message);
}

zen_status zen_impl_agent_poll_settings(zen_agent* agent, char** message) {
  return Guarded(message, [&]() -> absl::Status {
    zen::AgentClient* client = nullptr;
    ZEN_RETURN_IF_ERROR(zen::capi::ClientOf(agent, &client));
    return client->PollSettings();
  });
}

}  // extern "C"
