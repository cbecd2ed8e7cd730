// The code behind generated Service and Stub methods: each generated method
// is one call into these, with its MethodCodec.
#ifndef ZEN_CODEGEN_RUNTIME_SERVICE_SUPPORT_H_
#define ZEN_CODEGEN_RUNTIME_SERVICE_SUPPORT_H_

#include <functional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "codegen_runtime/method_codec.h"
#include "codegen_runtime/padded_json.h"
#include "codegen_runtime/reused_message.h"
#include "codegen_runtime/server_context.h"
#include "google/protobuf/message.h"
#include "rpc/call_options.h"
#include "rpc/channel.h"
#include "rpc/raw_result.h"
#include "rpc/server.h"
#include "rpc/server_call.h"

namespace zen::codegen_runtime {

// What a Service method that was not overridden answers.
absl::Status UnimplementedError(absl::string_view method);

namespace internal {

// Decodes the call's args and kwargs into *request (kInvalidArgument).
absl::Status DecodeRequest(rpc::ServerCall& call, const MethodCodec& codec,
                           google::protobuf::Message* request);

// Sends `request` and decodes the result into *response.
absl::Status CallUnary(rpc::Channel* channel, const MethodCodec& codec,
                       const google::protobuf::Message& request,
                       const rpc::CallOptions& options,
                       google::protobuf::Message* response);

// Sends `request`; `done` gets the raw result. On an encoding error `done`
// runs at once on this thread.
void CallUnaryAsync(rpc::Channel* channel, const MethodCodec& codec,
                    const google::protobuf::Message& request,
                    const rpc::CallOptions& options, rpc::ResultCallback done);

}  // namespace internal

// Registers `(service->*method)` on `server` under the codec's wire name.
// The handler decodes the request (kInvalidArgument is answered if it
// cannot), runs the method with a ServerContext, and answers its error, or
// else the response (unless the method responded early). `codec` and
// `service` are not owned and must outlive the server's calls.
template <typename ServiceT, typename Request, typename Response>
void RegisterUnary(
    rpc::Server* server, const MethodCodec& codec, ServiceT* service,
    absl::Status (ServiceT::*method)(codegen_runtime::ServerContext*,
                                     const Request&, Response*)) {
  server->RegisterHandler(
      std::string(codec.wire_name()),
      [&codec, service, method](rpc::ServerCall& call) -> absl::Status {
        // Per-thread messages: no allocation per call once warm.
        ReusedMessage<Request, MessageRole::kRequest> request;
        ZEN_RETURN_IF_ERROR(
            internal::DecodeRequest(call, codec, request.get()));
        ReusedMessage<Response, MessageRole::kResponse> response;
        codegen_runtime::ServerContext context(&call, &codec, response.get());
        ZEN_RETURN_IF_ERROR(
            (service->*method)(&context, *request, response.get()));
        return context.Finish();
      });
}

// A blocking call: the request goes as args and kwargs (MethodCodec says
// which fields go where), the result comes back as the response (a `null`
// result is the empty message).
template <typename Response>
absl::StatusOr<Response> CallUnary(rpc::Channel* channel,
                                   const MethodCodec& codec,
                                   const google::protobuf::Message& request,
                                   const rpc::CallOptions& options) {
  Response response;
  ZEN_RETURN_IF_ERROR(
      internal::CallUnary(channel, codec, request, options, &response));
  return response;
}

// CallUnary's asynchronous form: returns at once, `done` runs exactly once
// (see rpc::ResultCallback for on which thread). `codec` must outlive the
// call.
template <typename Response>
void CallUnaryAsync(rpc::Channel* channel, const MethodCodec& codec,
                    const google::protobuf::Message& request,
                    const rpc::CallOptions& options,
                    std::function<void(absl::StatusOr<Response>)> done) {
  internal::CallUnaryAsync(
      channel, codec, request, options,
      [&codec, done = std::move(done)](absl::StatusOr<rpc::RawResult> result) {
        if (!result.ok()) {
          done(result.status());
          return;
        }
        Response response;
        absl::Status status =
            codec.DecodeResult(PaddedJsonView(result->json()), &response);
        if (!status.ok()) {
          done(status);
          return;
        }
        done(std::move(response));
      });
}

}  // namespace zen::codegen_runtime

#endif  // ZEN_CODEGEN_RUNTIME_SERVICE_SUPPORT_H_
