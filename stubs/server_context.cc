#include "stubs/server_context.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "stubs/method_codec.h"
#include "stubs/spliced_json.h"

namespace zen::rpc {
namespace {

// A response that cannot be encoded is the server's bug, not the caller's:
// kInternal, whatever the codec called it.
absl::Status EncodingError(const absl::Status& status) {
  return absl::InternalError(status.message());
}

}  // namespace

absl::Status ServerContext::SpliceRawJson(int field_number,
                                          stubs::ValidatedJson json) {
  const google::protobuf::FieldDescriptor* field =
      codec_->FindResponseRawJsonField(field_number);
  if (field == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "field number ", field_number, " of ",
        response_->GetDescriptor()->full_name(),
        " is not a raw_json field; set the message's field instead"));
  }
  for (stubs::RawJsonSplice& splice : splices_) {
    if (splice.field == field) {
      splice.json = std::move(json);
      return absl::OkStatus();
    }
  }
  splices_.push_back({field, std::move(json)});
  return absl::OkStatus();
}

absl::Status ServerContext::Send() {
  stubs::SplicedJson result;
  absl::Status status = codec_->EncodeResult(*response_, splices_, &result);
  if (!status.ok()) return EncodingError(status);
  // The spliced texts are written from splices_' buffers, alive until the
  // write is done: Respond returns only then.
  if (!call_->Respond(result.parts())) {
    return absl::FailedPreconditionError(
        "a response was already sent for this call");
  }
  return absl::OkStatus();
}

absl::Status ServerContext::RespondNow() {
  if (call_->responded()) {
    return absl::FailedPreconditionError(
        "a response was already sent for this call");
  }
  return Send();
}

absl::Status ServerContext::Finish() {
  if (call_->responded()) return absl::OkStatus();
  absl::Status status = Send();
  // Lost a race with a response sent meanwhile: that one stands.
  if (absl::IsFailedPrecondition(status)) return absl::OkStatus();
  return status;
}

}  // namespace zen::rpc
