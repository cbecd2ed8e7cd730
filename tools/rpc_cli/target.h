// The address forms of the command-line tools (rpc_cli, agent_cli): a TCP
// port on 127.0.0.1, or "unix:<path>" for the Unix-domain transport.
#ifndef ZEN_TOOLS_RPC_CLI_TARGET_H_
#define ZEN_TOOLS_RPC_CLI_TARGET_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ipc/connector.h"
#include "ipc/options.h"

namespace zen::rpc_cli {

// Sets `options` (transport, port or unix_path) from "PORT" (1..65535) or
// "unix:<path>". kInvalidArgument naming `arg` otherwise; `options` is then
// unchanged.
absl::Status ParseTarget(absl::string_view arg, ipc::ConnectorOptions* options);

// What `serve` prints once listening: "PORT <n>" or "UNIX <path>".
std::string AddressLine(ipc::Transport transport, uint16_t port,
                        absl::string_view unix_path);

}  // namespace zen::rpc_cli

#endif  // ZEN_TOOLS_RPC_CLI_TARGET_H_
