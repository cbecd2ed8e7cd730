// The C ABI's options: one JSON object read into zen::AgentOptions.
// docs/c_api.md lists every key. Strict: an unknown key, a value of the
// wrong type or out of range is refused, and the message names the key
// ("client.call_timeout_ms"), so a binding's typo never passes silently.
#ifndef ZEN_CAPI_OPTIONS_JSON_H_
#define ZEN_CAPI_OPTIONS_JSON_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/agent.h"

namespace zen::capi {

// Empty text (or only whitespace) gives the defaults, as does `{}`.
// kInvalidArgument for text that is not one JSON object, or any refused
// key; kResourceExhausted past 1 MiB of text.
absl::StatusOr<AgentOptions> ParseAgentOptions(absl::string_view json);

}  // namespace zen::capi

#endif  // ZEN_CAPI_OPTIONS_JSON_H_
