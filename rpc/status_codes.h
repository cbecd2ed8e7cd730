// The one map between absl::StatusCode and the canonical names sent on the
// wire in error objects ({"code": "INVALID_ARGUMENT", "message": "..."}).
#ifndef ZEN_RPC_STATUS_CODES_H_
#define ZEN_RPC_STATUS_CODES_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace zen::rpc {

// "OK", "CANCELLED", ..., "UNAUTHENTICATED" (gRPC's canonical spelling).
absl::string_view StatusCodeName(absl::StatusCode code);

// The inverse; an unknown name gives kUnknown.
absl::StatusCode StatusCodeFromName(absl::string_view name);

}  // namespace zen::rpc

#endif  // ZEN_RPC_STATUS_CODES_H_
