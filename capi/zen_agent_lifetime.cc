// The C ABI: the library's version, memory, and the agent's lifetime.
#include <unistd.h>

#include <cstdlib>
#include <new>

#include "capi/handle.h"
#include "capi/options_json.h"

using zen::capi::Guarded;

extern "C" {

const char* zen_agent_version(void) { return ZEN_AGENT_VERSION_STRING; }

const char* zen_status_name(zen_status status) {
  switch (status) {
    case ZEN_OK:
      return "OK";
    case ZEN_CANCELLED:
      return "CANCELLED";
    case ZEN_UNKNOWN:
      return "UNKNOWN";
    case ZEN_INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case ZEN_DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case ZEN_NOT_FOUND:
      return "NOT_FOUND";
    case ZEN_ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case ZEN_PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case ZEN_RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case ZEN_FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case ZEN_ABORTED:
      return "ABORTED";
    case ZEN_OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case ZEN_UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case ZEN_INTERNAL:
      return "INTERNAL";
    case ZEN_UNAVAILABLE:
      return "UNAVAILABLE";
    case ZEN_DATA_LOSS:
      return "DATA_LOSS";
    case ZEN_UNAUTHENTICATED:
      return "UNAUTHENTICATED";
  }
  return "UNKNOWN";
}

void zen_free(void* memory) { std::free(memory); }

zen_status zen_agent_create(const char* options_json, size_t options_json_len,
                            zen_agent** agent_out, char** message) {
  if (agent_out != nullptr) *agent_out = nullptr;
  return Guarded(message, [&]() -> absl::Status {
    if (agent_out == nullptr) {
      return absl::InvalidArgumentError("agent_out is NULL");
    }
    absl::string_view text;
    if (absl::Status s = zen::capi::ReadText(options_json, options_json_len,
                                             "options_json", &text);
        !s.ok()) {
      return s;
    }
    absl::StatusOr<zen::AgentOptions> options =
        zen::capi::ParseAgentOptions(text);
    if (!options.ok()) return options.status();
    auto handle = std::make_unique<zen_agent>();
    absl::StatusOr<std::unique_ptr<zen::Agent>> agent =
        zen::Agent::Create(*std::move(options));
    if (!agent.ok()) return agent.status();
    handle->agent = *std::move(agent);
    *agent_out = handle.release();
    return absl::OkStatus();
  });
}

zen_status zen_agent_stop(zen_agent* agent, char** message) {
  return Guarded(message, [&]() -> absl::Status {
    if (absl::Status s = zen::capi::CheckUsable(agent); !s.ok()) {
      // Stopping twice is fine.
      return absl::IsCancelled(s) ? absl::OkStatus() : s;
    }
    absl::Status flushed;
    // In a worker that never connected this connects once to flush
    // nothing; a parent that is gone answers at once.
    if (zen::AgentClient* client = agent->agent->client()) {
      flushed = client->Flush();
      client->Stop();
    }
    if (zen::AgentServer* server = agent->agent->server()) server->Stop();
    agent->stopped_in.store(::getpid(), std::memory_order_release);
    return flushed;
  });
}

void zen_agent_destroy(zen_agent* agent) {
  try {
    delete agent;
  } catch (...) {
    // Destructors do not throw; nothing may reach the host if one did.
  }
}

int zen_agent_is_parent(const zen_agent* agent) {
  return agent != nullptr && agent->agent->is_parent() ? 1 : 0;
}

int zen_agent_parent_alive(const zen_agent* agent) {
  return agent != nullptr && agent->agent->parent_alive() ? 1 : 0;
}

}  // extern "C"
