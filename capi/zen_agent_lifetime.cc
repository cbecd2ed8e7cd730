// The C ABI: the agent's lifetime (create, stop, destroy) and who holds it.
#include <unistd.h>

#include <memory>

#include "base/status_macros.h"
#include "capi/handle.h"
#include "capi/impl.h"
#include "capi/options_json.h"

using zen::capi::Guarded;

extern "C" {

zen_status zen_impl_agent_create(const char* options_json,
                                 size_t options_json_len, zen_agent** agent_out,
                                 char** message) {
  if (agent_out != nullptr) *agent_out = nullptr;
  return Guarded(message, [&]() -> absl::Status {
    if (agent_out == nullptr) {
      return absl::InvalidArgumentError("agent_out is NULL");
    }
    absl::string_view text;
    ZEN_RETURN_IF_ERROR(zen::capi::ReadText(options_json, options_json_len,
                                            "options_json", &text));
    absl::StatusOr<zen::AgentOptions> options =
        zen::capi::ParseAgentOptions(text);
    if (!options.ok()) return options.status();
    auto handle = std::make_unique<zen::capi::Handle>();
    absl::StatusOr<std::unique_ptr<zen::Agent>> agent =
        zen::Agent::Create(*std::move(options));
    if (!agent.ok()) return agent.status();
    handle->agent = *std::move(agent);
    *agent_out = zen::capi::ToC(handle.release());
    return absl::OkStatus();
  });
}

zen_status zen_impl_agent_stop(zen_agent* agent, char** message) {
  return Guarded(message, [&]() -> absl::Status {
    if (absl::Status s = zen::capi::CheckUsable(agent); !s.ok()) {
      // Stopping twice is fine.
      return absl::IsCancelled(s) ? absl::OkStatus() : s;
    }
    absl::Status flushed;
    // In a worker that never connected this connects once to flush
    // nothing; a parent that is gone answers at once.
    if (zen::AgentClient* client = zen::capi::AgentOf(agent)->client()) {
      flushed = client->Flush();
      client->Stop();
    }
    if (zen::AgentServer* server = zen::capi::AgentOf(agent)->server()) {
      server->Stop();
    }
    zen::capi::HandleOf(agent)->stopped_in.store(::getpid(),
                                                 std::memory_order_release);
    return flushed;
  });
}

void zen_impl_agent_destroy(zen_agent* agent) {
  try {
    if (agent != nullptr) delete zen::capi::HandleOf(agent);
  } catch (...) {
    // Destructors do not throw; nothing may reach the host if one did.
  }
}

int zen_impl_agent_is_parent(const zen_agent* agent) {
  return agent != nullptr && zen::capi::AgentOf(agent)->is_parent() ? 1 : 0;
}

int zen_impl_agent_parent_alive(const zen_agent* agent) {
  return agent != nullptr && zen::capi::AgentOf(agent)->parent_alive() ? 1 : 0;
}

}  // extern "C"
