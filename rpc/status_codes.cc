#include "rpc/status_codes.h"

namespace zen::rpc {
namespace {

struct Entry {
  absl::StatusCode code;
  absl::string_view name;
};

constexpr Entry kCodes[] = {
    {absl::StatusCode::kOk, "OK"},
    {absl::StatusCode::kCancelled, "CANCELLED"},
    {absl::StatusCode::kUnknown, "UNKNOWN"},
    {absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT"},
    {absl::StatusCode::kDeadlineExceeded, "DEADLINE_EXCEEDED"},
    {absl::StatusCode::kNotFound, "NOT_FOUND"},
    {absl::StatusCode::kAlreadyExists, "ALREADY_EXISTS"},
    {absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED"},
    {absl::StatusCode::kResourceExhausted, "RESOURCE_EXHAUSTED"},
    {absl::StatusCode::kFailedPrecondition, "FAILED_PRECONDITION"},
    {absl::StatusCode::kAborted, "ABORTED"},
    {absl::StatusCode::kOutOfRange, "OUT_OF_RANGE"},
    {absl::StatusCode::kUnimplemented, "UNIMPLEMENTED"},
    {absl::StatusCode::kInternal, "INTERNAL"},
    {absl::StatusCode::kUnavailable, "UNAVAILABLE"},
    {absl::StatusCode::kDataLoss, "DATA_LOSS"},
    {absl::StatusCode::kUnauthenticated, "UNAUTHENTICATED"},
};

}  // namespace

absl::string_view StatusCodeName(absl::StatusCode code) {
  for (const Entry& e : kCodes) {
    if (e.code == code) return e.name;
  }
  return "UNKNOWN";
}

absl::StatusCode StatusCodeFromName(absl::string_view name) {
  for (const Entry& e : kCodes) {
    if (e.name == name) return e.code;
  }
  return absl::StatusCode::kUnknown;
}

}  // namespace zen::rpc
