// MethodCodec: the JSON of one method's request and result on the wire.
#ifndef ZEN_CODEGEN_RUNTIME_METHOD_CODEC_H_
#define ZEN_CODEGEN_RUNTIME_METHOD_CODEC_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "codegen_runtime/message_json.h"
#include "codegen_runtime/padded_json.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace zen::codegen_runtime {

// What generated code knows about a method: its wire name, its message types
// and the options of proto/zen/rpc/options.proto, one statement each:
//
//   MethodSpec spec("record_attack_wave", Req::descriptor(),
//                   Resp::descriptor());
//   spec.AddPositionalArg("client_ip");
//   spec.SetResultField("samples");
//   spec.SetNullWhenEmpty(true);
//
// Strings are views: generated code passes literals, which live forever.
class MethodSpec {
 public:
  MethodSpec(absl::string_view wire_name,
             const google::protobuf::Descriptor* request_type,
             const google::protobuf::Descriptor* response_type)
      : wire_name_(wire_name),
        request_type_(request_type),
        response_type_(response_type) {}

  // A raw_json field of the request or response (see MessageJson).
  void AddRequestRawJson(absl::string_view field) {
    request_raw_json_.push_back(field);
  }
  void AddResponseRawJson(absl::string_view field) {
    response_raw_json_.push_back(field);
  }
  // The request field that the next positional argument fills.
  void AddPositionalArg(absl::string_view field) {
    positional_args_.push_back(field);
  }
  // The response field whose bare value is the wire result.
  void SetResultField(absl::string_view field) { result_field_ = field; }
  // Whether an empty response is sent as `null`.
  void SetNullWhenEmpty(bool null_when_empty) {
    null_when_empty_ = null_when_empty;
  }

 private:
  friend class MethodCodec;
  absl::string_view wire_name_;
  const google::protobuf::Descriptor* request_type_;
  const google::protobuf::Descriptor* response_type_;
  std::vector<absl::string_view> request_raw_json_;
  std::vector<absl::string_view> response_raw_json_;
  std::vector<absl::string_view> positional_args_;
  absl::string_view result_field_;
  bool null_when_empty_ = false;
};

// Turns one method's messages into the JSON texts of the wire and back
// (docs/protocol.md, docs/codegen.md):
//
// * The client sends the request as the reference Ruby client does: for a
//   method with positional_args, each of those fields is one element of
//   `args` (an unset field with presence, or an unset message, is `null`)
//   and any other set field goes in `kwargs`; a method without them sends
//   the whole message as `kwargs` with `args` empty. (The reference's
//   handlers take positional parameters only: a request sent as `kwargs`
//   alone would reach them as one stray Hash.) It reads `result` into the
//   response message; a `null` result is the empty response.
// * The server reads the request from `kwargs`, merged with positional
//   `args` when the method declares positional_args and `args` is not empty
//   (the reference Ruby client sends those); it sends the response as
//   `result`: `null` for an empty response with null_when_empty, the bare
//   value of result_field when the method has one.
//
// Errors are kInvalidArgument with a message that names the method, the
// direction and the field. Immutable after construction, so thread-safe.
class MethodCodec {
 public:
  // Resolves the spec's field names against its descriptors, which must
  // outlive the codec. Aborts, naming the culprit, if a name is not a field
  // of the right kind: generated code and its .proto disagree, which is a
  // build error, not a runtime condition.
  explicit MethodCodec(const MethodSpec& spec);
  MethodCodec(const MethodCodec&) = delete;
  MethodCodec& operator=(const MethodCodec&) = delete;

  // The method's name on the wire; a view of the spec's string.
  absl::string_view wire_name() const { return wire_name_; }

  // Client side: appends the `args` array and the `kwargs` object for
  // `request` to *args and *kwargs. On error both may hold partial texts.
  absl::Status EncodeRequest(const google::protobuf::Message& request,
                             std::string* args, std::string* kwargs) const;

  // True when the method takes no positional arguments: its `args` is
  // always `[]` and only `kwargs` needs encoding (EncodeKwargs).
  bool kwargs_only() const { return positional_args_.empty(); }

  // Client side, for a kwargs_only() method: appends the `kwargs` object
  // for `request` to *kwargs. On error it may hold a partial text.
  absl::Status EncodeKwargs(const google::protobuf::Message& request,
                            std::string* kwargs) const;

  // Client side: clears *response and fills it from the call's `result`.
  absl::Status DecodeResult(PaddedJsonView result,
                            google::protobuf::Message* response) const;

  // Server side: clears *request and fills it from the call's `args` (a
  // JSON array) and `kwargs` (a JSON object).
  absl::Status DecodeRequest(PaddedJsonView args, PaddedJsonView kwargs,
                             google::protobuf::Message* request) const;

  // Server side: appends the `result` JSON value for `response` to *result.
  absl::Status EncodeResult(const google::protobuf::Message& response,
                            std::string* result) const;

  // Server side: EncodeResult with raw_json values given apart from the
  // response, spliced by reference (see MessageJson::Encode): *result
  // borrows their texts, so `splices` must outlive the use of
  // result->parts(). A spliced field counts as set (so the response is not
  // empty for null_when_empty).
  absl::Status EncodeResult(const google::protobuf::Message& response,
                            absl::Span<const RawJsonSplice> splices,
                            SplicedJson* result) const;

  // The response type's raw_json field numbered `number`, or nullptr.
  const google::protobuf::FieldDescriptor* FindResponseRawJsonField(
      int number) const {
    return response_json_.FindRawJsonField(number);
  }

 private:
  absl::Status Annotate(absl::string_view what, absl::Status status) const;

  const absl::string_view wire_name_;
  const MessageJson request_json_;
  const MessageJson response_json_;
  std::vector<const google::protobuf::FieldDescriptor*> positional_args_;
  const google::protobuf::FieldDescriptor* result_field_ = nullptr;
  const bool null_when_empty_;
};

}  // namespace zen::codegen_runtime

#endif  // ZEN_CODEGEN_RUNTIME_METHOD_CODEC_H_
