// The secret of the command-line tools (rpc_cli, agent_cli), read from the
// first line of standard input. For tests and debugging only: real children
// get the secret by fork(), never from a file, argument or environment.
#ifndef ZEN_TOOLS_RPC_CLI_STDIN_SECRET_H_
#define ZEN_TOOLS_RPC_CLI_STDIN_SECRET_H_

#include "absl/status/statusor.h"
#include "ipc/secret.h"

namespace zen::rpc_cli {

// Reads the first line of stdin, which must be exactly 64 hex characters
// (the 32 raw key bytes; a trailing "\r" is allowed). It reads byte by byte,
// never past the newline, so a server can then watch stdin for end of file.
// kInvalidArgument if the line is not that; the copies it made of the key
// are zeroed either way. Not thread-safe (it consumes stdin).
absl::StatusOr<ipc::Secret> ReadSecretFromStdin();

}  // namespace zen::rpc_cli

#endif  // ZEN_TOOLS_RPC_CLI_STDIN_SECRET_H_
