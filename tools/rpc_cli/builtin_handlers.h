// The built-in methods of `rpc_cli serve`, one per behaviour of the protocol.
// Tests use them too, so the CLI and the suite exercise the same server.
#ifndef ZEN_TOOLS_RPC_CLI_BUILTIN_HANDLERS_H_
#define ZEN_TOOLS_RPC_CLI_BUILTIN_HANDLERS_H_

#include "rpc/server.h"

namespace zen::rpc_cli {

// Registers on `server`:
//   echo   its first positional argument, or its kwargs object when none;
//   add    kwargs a + b, or the sum of its positional arguments;
//   fail   an error with message "boom";
//   slow   sleeps kwargs `seconds` (or its first positional argument), then
//          answers "done";
//   early  answers "ok" at once, then keeps working for 0.2 s;
//   ping   answers null;
//   noop   returns without responding (→ null);
//   repeat responds "first", then tries "second" (dropped);
//   risky  responds "safe result", then fails (only logged);
//   big    a string of n "x" characters (kwargs n or first positional).
void RegisterBuiltinHandlers(rpc::Server* server);

}  // namespace zen::rpc_cli

#endif  // ZEN_TOOLS_RPC_CLI_BUILTIN_HANDLERS_H_
