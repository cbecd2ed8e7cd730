#include "stubs/server_context.h"

#include <string>

#include "stubs/method_codec.h"

namespace zen::rpc {
namespace {

// A response that cannot be encoded is the server's bug, not the caller's:
// kInternal, whatever the codec called it.
absl::Status EncodingError(const absl::Status& status) {
  return absl::InternalError(status.message());
}

}  // namespace

absl::Status ServerContext::RespondNow() {
  if (call_->responded()) {
    return absl::FailedPreconditionError(
        "a response was already sent for this call");
  }
  std::string result;
  absl::Status status = codec_->EncodeResult(*response_, &result);
  if (!status.ok()) return EncodingError(status);
  if (!call_->Respond(result)) {
    return absl::FailedPreconditionError(
        "a response was already sent for this call");
  }
  return absl::OkStatus();
}

absl::Status ServerContext::Finish() {
  if (call_->responded()) return absl::OkStatus();
  std::string result;
  absl::Status status = codec_->EncodeResult(*response_, &result);
  if (!status.ok()) return EncodingError(status);
  call_->Respond(result);
  return absl::OkStatus();
}

}  // namespace zen::rpc
