// ServerContext: what a generated Service method sees of its call.
#ifndef ZEN_CODEGEN_RUNTIME_SERVER_CONTEXT_H_
#define ZEN_CODEGEN_RUNTIME_SERVER_CONTEXT_H_

#include <memory>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "codegen_runtime/validated_json.h"
#include "google/protobuf/message.h"
#include "rpc/server_call.h"

namespace zen::codegen_runtime {

class MethodCodec;

// A generated method's answer, given after the method returned, from any
// thread (a long poll: the call waits holding no thread). Made by
// ServerContext::Defer. Destroyed unanswered, the call is answered
// CANCELLED. Not thread-safe: one owner answers it; it may outlive the
// server (the answer is then lost quietly).
class DeferredServerCall {
 public:
  // `codec` is not owned and must outlive this object (generated codecs
  // live as long as the process).
  DeferredServerCall(std::unique_ptr<rpc::DeferredResponse> response,
                     const MethodCodec* codec)
      : response_(std::move(response)), codec_(codec) {}
  DeferredServerCall(const DeferredServerCall&) = delete;
  DeferredServerCall& operator=(const DeferredServerCall&) = delete;

  // As ServerContext::SpliceRawJson, for the answer Finish sends.
  absl::Status SpliceRawJson(int field_number, ValidatedJson json);

  // Sends `response` (of the method's response type) with the splices.
  // kFailedPrecondition if the call was answered already; kInternal, with
  // an INTERNAL error answered instead, if it cannot be encoded.
  absl::Status Finish(const google::protobuf::Message& response);

  // Whether the caller's connection is gone: an answer would be dropped.
  bool connection_gone() const { return response_->connection_gone(); }

  // Names the caller's connection (rpc::DeferredResponse::connection).
  const void* connection() const { return response_->connection(); }

  // Answers with `error` (not OK); false if the call was answered already.
  bool FinishWithError(const absl::Status& error) {
    return response_->RespondError(error);
  }

 private:
  std::unique_ptr<rpc::DeferredResponse> response_;
  const MethodCodec* const codec_;  // Not owned.
  absl::InlinedVector<RawJsonSplice, 2> splices_;
};

// The call a generated Service method is handling, besides its messages.
// Made by the generated handler (see codegen_runtime/service_support.h) around
// the server's ServerCall; valid only until the method returns, so a method
// must not keep it.
//
// Respond-early: RespondNow() sends the response as it is at that moment, so
// the caller gets its answer while the method goes on working (the
// reference's `send_collector_events` acknowledges at once, then folds the
// events in). Later changes to the response, and an error the method
// returns afterwards, are not sent (the server logs the error).
//
// Not thread-safe: use it on the method's own thread.
class ServerContext {
 public:
  // `call`, `codec` and `response` are not owned and must outlive the
  // context.
  ServerContext(rpc::ServerCall* call, const MethodCodec* codec,
                const google::protobuf::Message* response)
      : call_(call), codec_(codec), response_(response) {}
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // Sends *response as it is now. kFailedPrecondition if a response was
  // already sent; kInternal, with nothing sent, if the response cannot be
  // encoded (a string that is not UTF-8, a raw_json field that is not JSON).
  absl::Status RespondNow();

  // Sends `json` as the value of the response's raw_json field numbered
  // `field_number` (e.g. `UpdatedSettingsResponse::kConfigFieldNumber`),
  // in place of whatever *response holds in that field, by RespondNow()
  // and Finish() alike. The text is not checked again (a ValidatedJson was
  // checked when it was made) and not copied: the response is written
  // straight from its buffer, which this context keeps alive until the
  // response is sent. A field given twice takes the later value.
  // kInvalidArgument, with nothing set, if the response type has no
  // raw_json field of that number.
  absl::Status SpliceRawJson(int field_number, ValidatedJson json);

  // Takes the answer out of the method: it returns (OK; its *response is
  // then not sent) and the call waits, holding no thread, until the
  // returned object is finished. kFailedPrecondition if a response was
  // already sent or deferred. The request message is the method's: copy
  // from it what the answer needs.
  absl::StatusOr<std::unique_ptr<DeferredServerCall>> Defer();

  // Whether a response has been sent (by RespondNow) or deferred.
  bool responded() const { return call_->responded(); }

  // True once the server is stopping: a long method should wrap up.
  bool cancelled() const { return call_->cancelled(); }

  // The method's wire name, e.g. "updated_settings".
  absl::string_view method() const { return call_->method(); }

  // Used by the generated handler once the method has returned OK: sends
  // *response unless a response was sent already. Returns the error to
  // answer with instead (kInternal) if it cannot be encoded.
  absl::Status Finish();

 private:
  // Encodes *response_ with splices_ and responds; kInternal (nothing
  // sent) if it cannot be encoded, kFailedPrecondition if a response was
  // sent already.
  absl::Status Send();

  rpc::ServerCall* const call_;                      // Not owned.
  const MethodCodec* const codec_;                   // Not owned.
  const google::protobuf::Message* const response_;  // Not owned.
  absl::InlinedVector<RawJsonSplice, 2> splices_;
};

}  // namespace zen::codegen_runtime

#endif  // ZEN_CODEGEN_RUNTIME_SERVER_CONTEXT_H_
