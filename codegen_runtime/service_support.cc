#include "codegen_runtime/service_support.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "base/scratch_string.h"
#include "base/status_macros.h"

namespace zen::codegen_runtime {

absl::Status UnimplementedError(absl::string_view method) {
  return absl::UnimplementedError(
      absl::StrCat("method '", method, "' is not implemented by this server"));
}

namespace internal {

absl::Status DecodeRequest(rpc::ServerCall& call, const MethodCodec& codec,
                           google::protobuf::Message* request) {
  // ServerCall guarantees padding after args() and kwargs().
  return codec.DecodeRequest(PaddedJsonView(call.args()),
                             PaddedJsonView(call.kwargs()), request);
}

absl::Status CallUnary(rpc::Channel* channel, const MethodCodec& codec,
                       const google::protobuf::Message& request,
                       const rpc::CallOptions& options,
                       google::protobuf::Message* response) {
  ScratchString kwargs;  // No allocation per call once warm.
  absl::string_view args_json = "[]";
  std::optional<ScratchString> args;  // Only for positional arguments.
  if (codec.kwargs_only()) {
    ZEN_RETURN_IF_ERROR(codec.EncodeKwargs(request, kwargs.get()));
  } else {
    args.emplace();
    ZEN_RETURN_IF_ERROR(
        codec.EncodeRequest(request, args->get(), kwargs.get()));
    args_json = args->str();
  }
  ZEN_ASSIGN_OR_RETURN(
      const rpc::RawResult result,
      channel->Call(codec.wire_name(), args_json, *kwargs, options));
  // RawResult guarantees padding after json().
  return codec.DecodeResult(PaddedJsonView(result.json()), response);
}

void CallUnaryAsync(rpc::Channel* channel, const MethodCodec& codec,
                    const google::protobuf::Message& request,
                    const rpc::CallOptions& options, rpc::ResultCallback done) {
  ScratchString args, kwargs;
  absl::Status status = codec.EncodeRequest(request, args.get(), kwargs.get());
  if (!status.ok()) {
    done(status);
    return;
  }
  // The channel is done with `args` and `kwargs` when CallAsync returns.
  channel->CallAsync(codec.wire_name(), *args, *kwargs, options,
                     std::move(done));
}

}  // namespace internal
}  // namespace zen::codegen_runtime
