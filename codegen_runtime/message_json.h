// MessageJson: one protobuf message type to and from the JSON of the wire.
#ifndef ZEN_CODEGEN_RUNTIME_MESSAGE_JSON_H_
#define ZEN_CODEGEN_RUNTIME_MESSAGE_JSON_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "codegen_runtime/padded_json.h"
#include "codegen_runtime/spliced_json.h"
#include "codegen_runtime/validated_json.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/message.h"

namespace zen::codegen_runtime {
namespace internal {
// Defined in reflection_json.h; held by pointer so that simdjson.h (1.2 MB)
// stays out of this header, which every generated .cc includes.
class TypeTables;
struct Splicing;
}  // namespace internal

// Maps messages of one type to JSON objects and back, as the generated stubs
// put them on the wire:
//
// * protobuf's JSON mapping (what util::MessageToJsonString and
//   util::JsonStringToMessage implement), with the proto field names as keys
//   when printing, both those and the lowerCamel JSON names accepted when
//   parsing, and unknown keys ignored (a newer peer may send more);
// * raw_json fields: top-level singular `string` fields holding JSON text.
//   Encoding splices the text in as a JSON value, byte for byte, after
//   checking that it is exactly one JSON value; an unset (empty) field is
//   left out. Decoding stores the raw text of the value, byte for byte
//   (`null` included), after the same check, so a peer cannot smuggle
//   anything but JSON into them. A server may instead give a raw_json
//   field's value apart from the message as a ValidatedJson, checked once
//   when it was made and spliced in by reference (the Encode overloads
//   taking RawJsonSplice).
//
// The common field types (numbers, bools, strings, enums, nested messages of
// those, repeated or not) are handled by reflection without protobuf's JSON
// <-> binary round trip; others (maps, bytes, well-known types such as Struct
// or Timestamp) go through protobuf's utilities.
//
// Errors are kInvalidArgument, with a message naming the field. Immutable
// after construction, so thread-safe; parsing uses thread-local parsers.
class MessageJson {
 public:
  // `type` must outlive this object (generated descriptors live forever).
  // `raw_json_fields` names top-level singular string fields of `type`.
  // Aborts, naming the culprit, if a name is not such a field: generated
  // code and its .proto disagree, which is a build error, not a runtime
  // condition.
  MessageJson(const google::protobuf::Descriptor* type,
              absl::Span<const absl::string_view> raw_json_fields);
  ~MessageJson();
  MessageJson(const MessageJson&) = delete;
  MessageJson& operator=(const MessageJson&) = delete;

  const google::protobuf::Descriptor* type() const { return type_; }

  // The field of `type` named `name`, or nullptr.
  const google::protobuf::FieldDescriptor* FindField(
      absl::string_view name) const;

  // The raw_json field of `type` numbered `number`, or nullptr.
  const google::protobuf::FieldDescriptor* FindRawJsonField(int number) const;

  // Appends the JSON object of `message` (which must be of `type`) to *out.
  // On error *out holds a partial text.
  absl::Status Encode(const google::protobuf::Message& message,
                      std::string* out) const;

  // Appends the JSON value of one field of `message` (set or not: an unset
  // field gives its default) to *out.
  absl::Status EncodeField(const google::protobuf::Message& message,
                           const google::protobuf::FieldDescriptor* field,
                           std::string* out) const;

  // Encode and EncodeField for a server's response with raw_json values
  // given apart from the message: each field named in `splices` is sent
  // with its ValidatedJson in place of what `message` holds there (set or
  // not), neither checked again nor copied: *out borrows the texts, so
  // `splices` must outlive the use of out->parts(). Raw_json fields not
  // named are checked as Encode checks them. kInvalidArgument if a splice
  // names a field that is not a raw_json field of `type`.
  absl::Status Encode(const google::protobuf::Message& message,
                      absl::Span<const RawJsonSplice> splices,
                      SplicedJson* out) const;
  absl::Status EncodeField(const google::protobuf::Message& message,
                           const google::protobuf::FieldDescriptor* field,
                           absl::Span<const RawJsonSplice> splices,
                           SplicedJson* out) const;

  // Positional arguments (the reference's `args`): element i of the JSON
  // array `args` goes to fields[i]. Extra elements are ignored, a `null`
  // element leaves its field unset, and a field that the object also names
  // is taken from the object.
  struct Positional {
    PaddedJsonView args;
    absl::Span<const google::protobuf::FieldDescriptor* const> fields;
  };

  // Clears *message (of `type`) and fills it from `json`, which must be one
  // JSON object, merged with `positional` if not null. On error *message
  // holds whatever was parsed before it.
  absl::Status Decode(PaddedJsonView json, google::protobuf::Message* message,
                      const Positional* positional = nullptr) const;

 private:
  // Encode, with raw_json values from `splicing` if not null.
  absl::Status EncodeObject(const google::protobuf::Message& message,
                            const internal::Splicing* splicing,
                            std::string* out) const;
  absl::Status CheckSplices(absl::Span<const RawJsonSplice> splices) const;
  // Fields at the top level, in any mix of kinds.
  absl::Status DecodeMixed(PaddedJsonView json,
                           google::protobuf::Message* message,
                           const Positional* positional) const;
  // Appends the fallback fields of `message` as `"name":value` members.
  absl::Status AppendFallbackFields(const google::protobuf::Message& message,
                                    const google::protobuf::FieldMask& fields,
                                    bool* first, std::string* out) const;

  const google::protobuf::Descriptor* const type_;
  const std::unique_ptr<const internal::TypeTables> tables_;
  // Every fallback field, for copying them out of a message to print them.
  google::protobuf::FieldMask fallback_fields_;
  // True when every field is a fallback field: protobuf's utilities then
  // handle whole messages, with no splicing.
  bool all_fallback_ = false;
};

// Checks that `text` is exactly one JSON value (strict JSON: no comments,
// NaN or trailing text). `padded` says whether kJsonPadding readable bytes
// follow it (if not, it is copied first). kInvalidArgument otherwise.
absl::Status ValidateJsonValue(absl::string_view text, bool padded);

}  // namespace zen::codegen_runtime

#endif  // ZEN_CODEGEN_RUNTIME_MESSAGE_JSON_H_
