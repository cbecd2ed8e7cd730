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

namespace {

// A request's `args` and `kwargs` texts, in this thread's scratch strings
// (no allocation per call once warm). A method without positional
// arguments sends the literal `[]`, with no string of its own.
class EncodedRequest {
 public:
  absl::Status Encode(const MethodCodec& codec,
                      const google::protobuf::Message& request) {
    if (codec.kwargs_only()) return codec.EncodeKwargs(request, kwargs_.get());
    args_.emplace();
    absl::Status encoded =
        codec.EncodeRequest(request, args_->get(), kwargs_.get());
    args_json_ = args_->str();  // A view of the text as written.
    return encoded;
  }
  absl::string_view args() const { return args_json_; }
  absl::string_view kwargs() const { return kwargs_.str(); }

 private:
  ScratchString kwargs_;
  std::optional<ScratchString> args_;
  absl::string_view args_json_ = "[]";
};

}  // namespace

absl::Status CallUnary(rpc::Channel* channel, const MethodCodec& codec,
                       const google::protobuf::Message& request,
                       const rpc::CallOptions& options,
                       google::protobuf::Message* response) {
  EncodedRequest encoded;
  ZEN_RETURN_IF_ERROR(encoded.Encode(codec, request));
  ZEN_ASSIGN_OR_RETURN(const rpc::RawResult result,
                       channel->Call(codec.wire_name(), encoded.args(),
                                     encoded.kwargs(), options));
  // RawResult guarantees padding after json().
  return codec.DecodeResult(PaddedJsonView(result.json()), response);
}

void CallUnaryAsync(rpc::Channel* channel, const MethodCodec& codec,
                    const google::protobuf::Message& request,
                    const rpc::CallOptions& options, rpc::ResultCallback done) {
  EncodedRequest encoded;
  absl::Status status = encoded.Encode(codec, request);
  if (!status.ok()) {
    done(status);
    return;
  }
  // The channel is done with the texts when CallAsync returns.
  channel->CallAsync(codec.wire_name(), encoded.args(), encoded.kwargs(),
                     options, std::move(done));
}

}  // namespace internal
}  // namespace zen::codegen_runtime
