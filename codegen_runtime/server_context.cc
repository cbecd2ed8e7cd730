#include "codegen_runtime/server_context.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "codegen_runtime/method_codec.h"
#include "codegen_runtime/spliced_json.h"

namespace zen::codegen_runtime {
namespace {

// A response that cannot be encoded is the server's bug, not the caller's:
// kInternal, whatever the codec called it.
absl::Status EncodingError(const absl::Status& status) {
  return absl::InternalError(status.message());
}

// Sets (or replaces) the splice of raw_json field `field_number`.
absl::Status AddSplice(const MethodCodec& codec, int field_number,
                       ValidatedJson json,
                       absl::InlinedVector<RawJsonSplice, 2>* splices) {
  const google::protobuf::FieldDescriptor* field =
      codec.FindResponseRawJsonField(field_number);
  if (field == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("field number ", field_number, " of the response of ",
                     codec.wire_name(),
                     " is not a raw_json field; set the message's field "
                     "instead"));
  }
  for (RawJsonSplice& splice : *splices) {
    if (splice.field == field) {
      splice.json = std::move(json);
      return absl::OkStatus();
    }
  }
  splices->push_back({field, std::move(json)});
  return absl::OkStatus();
}

}  // namespace

absl::Status ServerContext::SpliceRawJson(int field_number,
                                          ValidatedJson json) {
  return AddSplice(*codec_, field_number, std::move(json), &splices_);
}

absl::StatusOr<std::unique_ptr<DeferredServerCall>> ServerContext::Defer() {
  std::unique_ptr<rpc::DeferredResponse> deferred = call_->Defer();
  if (deferred == nullptr) {
    return absl::FailedPreconditionError(
        "this call was answered or deferred already");
  }
  return std::make_unique<DeferredServerCall>(std::move(deferred), codec_);
}

absl::Status DeferredServerCall::SpliceRawJson(int field_number,
                                               ValidatedJson json) {
  return AddSplice(*codec_, field_number, std::move(json), &splices_);
}

absl::Status DeferredServerCall::Finish(
    const google::protobuf::Message& response) {
  if (response_->responded()) {
    return absl::FailedPreconditionError("this call was answered already");
  }
  SplicedJson result;
  absl::Status status = codec_->EncodeResult(response, splices_, &result);
  if (!status.ok()) {
    const absl::Status error = EncodingError(status);
    response_->RespondError(error);
    return error;
  }
  if (!response_->Respond(result.parts())) {
    return absl::FailedPreconditionError("this call was answered already");
  }
  return absl::OkStatus();
}

absl::Status ServerContext::Send() {
  SplicedJson result;
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

}  // namespace zen::codegen_runtime
