// The C ABI: the endpoint a foreign worker (one that does not load this
// library, such as the reference Ruby agent's) needs to reach the agent
// server: its TCP address and the handshake's secret.
#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "capi/handle.h"
#include "capi/impl.h"

using zen::capi::Guarded;

extern "C" {

zen_status zen_impl_agent_worker_endpoint(zen_agent* agent, char** host_out,
                                          size_t* host_len, uint16_t* port_out,
                                          uint8_t* secret_out,
                                          size_t secret_out_size,
                                          char** message) {
  zen::capi::ClearOut(host_out, host_len);
  if (port_out != nullptr) *port_out = 0;
  // Cleared first, so a failure never leaves an earlier call's key in a
  // buffer the caller may not think of wiping.
  if (secret_out != nullptr) {
    std::memset(secret_out, 0,
                std::min<size_t>(secret_out_size, ZEN_AGENT_SECRET_SIZE));
  }
  return Guarded(message, [&]() -> absl::Status {
    if (secret_out != nullptr && secret_out_size < ZEN_AGENT_SECRET_SIZE) {
      return absl::InvalidArgumentError(
          absl::StrCat("secret_out_size is ", secret_out_size, ", less than ",
                       ZEN_AGENT_SECRET_SIZE, " (ZEN_AGENT_SECRET_SIZE)"));
    }
    ZEN_RETURN_IF_ERROR(zen::capi::CheckUsable(agent));
    zen::Agent* const owner = zen::capi::AgentOf(agent);
    const zen::Agent::ListenAddress address = owner->listen_address();
    if (address.transport != zen::ipc::Transport::kTcp) {
      return absl::FailedPreconditionError(
          "the agent listens on a Unix-domain socket (transport \"unix\"): a "
          "worker endpoint is a TCP host and port; create the agent with "
          "transport \"tcp\" (the default) for foreign workers");
    }
    // The key goes straight from its protected page to the caller's buffer:
    // no copy of ours is left anywhere.
    const absl::Span<const uint8_t> key = owner->secret().key();
    if (key.size() != ZEN_AGENT_SECRET_SIZE) {
      return absl::InternalError("the agent holds no secret");
    }
    if (host_out != nullptr) {
      ZEN_RETURN_IF_ERROR(zen::capi::SetOut(address.host, host_out, host_len));
    }
    if (port_out != nullptr) *port_out = address.port;
    if (secret_out != nullptr) {
      std::memcpy(secret_out, key.data(), key.size());
    }
    return absl::OkStatus();
  });
}

}  // extern "C"
