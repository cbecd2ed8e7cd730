#include "codegen_runtime/method_codec.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "codegen_runtime/reflection_json.h"

namespace zen::codegen_runtime {
namespace {

namespace pb = google::protobuf;

[[noreturn]] void DieBadSpec(absl::string_view method, absl::string_view what) {
  std::fprintf(
      stderr,
      "codegen_runtime: method %.*s: %.*s: the generated code does not "
      "match its .proto; regenerate it\n",
      static_cast<int>(method.size()), method.data(),
      static_cast<int>(what.size()), what.data());
  std::abort();
}

// True when `args` is `[]` (with any whitespace), the stubs' own form.
bool IsEmptyArray(absl::string_view args) {
  args = internal::TrimJsonWhitespace(args);
  if (args.size() < 2 || args.front() != '[' || args.back() != ']') {
    return false;
  }
  return internal::TrimJsonWhitespace(args.substr(1, args.size() - 2)).empty();
}

}  // namespace

MethodCodec::MethodCodec(const MethodSpec& spec)
    : wire_name_(spec.wire_name_),
      request_json_(spec.request_type_, spec.request_raw_json_),
      response_json_(spec.response_type_, spec.response_raw_json_),
      null_when_empty_(spec.null_when_empty_) {
  for (absl::string_view name : spec.positional_args_) {
    const pb::FieldDescriptor* f = request_json_.FindField(name);
    if (f == nullptr) {
      DieBadSpec(wire_name_, absl::StrCat("positional argument '", name,
                                          "' is not a field of ",
                                          spec.request_type_->full_name()));
    }
    positional_args_.push_back(f);
  }
  if (!spec.result_field_.empty()) {
    result_field_ = response_json_.FindField(spec.result_field_);
    if (result_field_ == nullptr) {
      DieBadSpec(wire_name_, absl::StrCat("result field '", spec.result_field_,
                                          "' is not a field of ",
                                          spec.response_type_->full_name()));
    }
  }
}

absl::Status MethodCodec::Annotate(absl::string_view what,
                                   absl::Status status) const {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(what, " of '", wire_name_,
                                                  "': ", status.message()));
}

absl::Status MethodCodec::EncodeKwargs(const google::protobuf::Message& request,
                                       std::string* kwargs) const {
  return Annotate("request", request_json_.Encode(request, kwargs));
}

absl::Status MethodCodec::EncodeRequest(
    const google::protobuf::Message& request, std::string* args,
    std::string* kwargs) const {
  if (positional_args_.empty()) {
    args->append("[]");
    return EncodeKwargs(request, kwargs);
  }
  const pb::Reflection* r = request.GetReflection();
  args->push_back('[');
  for (size_t i = 0; i < positional_args_.size(); ++i) {
    const pb::FieldDescriptor* f = positional_args_[i];
    if (i > 0) args->push_back(',');
    // What the reference's `nil` is: a field with presence that is unset.
    // An implicit-presence scalar has no "unset" and sends its value.
    if (!f->is_repeated() && f->has_presence() && !r->HasField(request, f)) {
      args->append("null");
      continue;
    }
    absl::Status status = request_json_.EncodeField(request, f, args);
    if (!status.ok()) return Annotate("request", status);
  }
  args->push_back(']');
  // Whatever is set outside the positional fields travels as kwargs, where
  // a reference handler drops it as a surplus argument. Usually nothing is:
  // then no copy is made.
  const pb::Descriptor* type = request.GetDescriptor();
  bool others_set = false;
  for (int i = 0; i < type->field_count() && !others_set; ++i) {
    const pb::FieldDescriptor* f = type->field(i);
    if (std::find(positional_args_.begin(), positional_args_.end(), f) !=
        positional_args_.end()) {
      continue;
    }
    others_set = internal::IsSet(request, f);
  }
  if (!others_set) {
    kwargs->append("{}");
    return absl::OkStatus();
  }
  std::unique_ptr<pb::Message> rest(request.New());
  rest->CopyFrom(request);
  for (const pb::FieldDescriptor* f : positional_args_) {
    rest->GetReflection()->ClearField(rest.get(), f);
  }
  return Annotate("request", request_json_.Encode(*rest, kwargs));
}

absl::Status MethodCodec::DecodeResult(
    PaddedJsonView result, google::protobuf::Message* response) const {
  const absl::string_view text = internal::TrimJsonWhitespace(result.json());
  if (text == "null") {
    response->Clear();
    return absl::OkStatus();
  }
  if (result_field_ == nullptr) {
    return Annotate("result", response_json_.Decode(result, response));
  }
  // The result is the bare value of one field: wrap it into the object
  // `{"field":value}` and decode that. Results of this kind are small (a
  // list of samples), so the copy is cheap.
  PaddedJsonString wrapped;
  std::string* json = wrapped.mutable_text();
  json->reserve(text.size() + result_field_->name().size() + 5 + kJsonPadding);
  absl::StrAppend(json, "{\"", result_field_->name(), "\":", text, "}");
  wrapped.Pad();
  return Annotate("result", response_json_.Decode(wrapped.view(), response));
}

absl::Status MethodCodec::DecodeRequest(
    PaddedJsonView args, PaddedJsonView kwargs,
    google::protobuf::Message* request) const {
  if (positional_args_.empty() || IsEmptyArray(args.json())) {
    return Annotate("request", request_json_.Decode(kwargs, request));
  }
  const MessageJson::Positional positional{args, positional_args_};
  return Annotate("request",
                  request_json_.Decode(kwargs, request, &positional));
}

absl::Status MethodCodec::EncodeResult(
    const google::protobuf::Message& response, std::string* result) const {
  if (result_field_ == nullptr) {
    if (null_when_empty_ && response.ByteSizeLong() == 0) {
      result->append("null");
      return absl::OkStatus();
    }
    return Annotate("result", response_json_.Encode(response, result));
  }
  const bool set = internal::IsSet(response, result_field_);
  if (!set && null_when_empty_) {
    result->append("null");
    return absl::OkStatus();
  }
  return Annotate("result",
                  response_json_.EncodeField(response, result_field_, result));
}

absl::Status MethodCodec::EncodeResult(
    const google::protobuf::Message& response,
    absl::Span<const RawJsonSplice> splices, SplicedJson* result) const {
  if (splices.empty()) return EncodeResult(response, result->text());
  if (result_field_ == nullptr) {
    return Annotate("result", response_json_.Encode(response, splices, result));
  }
  bool set = internal::IsSet(response, result_field_);
  for (const RawJsonSplice& splice : splices)
    set |= splice.field == result_field_;
  if (!set && null_when_empty_) {
    result->text()->append("null");
    return absl::OkStatus();
  }
  return Annotate("result", response_json_.EncodeField(response, result_field_,
                                                       splices, result));
}

}  // namespace zen::codegen_runtime
