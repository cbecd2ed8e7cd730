// ValidatedJson: JSON text checked once, spliced into many responses.
#ifndef ZEN_CODEGEN_RUNTIME_VALIDATED_JSON_H_
#define ZEN_CODEGEN_RUNTIME_VALIDATED_JSON_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace zen::codegen_runtime {

// The text of exactly one strict JSON value, shared and immutable, known to
// be valid: what a server hands to ServerContext::SpliceRawJson so that a
// raw_json response field is sent without the per-call check (a full parse)
// and without the copies that a field set in the message costs. The typical
// use is a large document cached once and sent to many callers: check it
// when it is cached, then splice it per call.
//
// There are two ways to make one, and only these: Validate() checks the text
// now; AlreadyValidated() takes the caller's word for it. A raw_json field
// set in the message itself is still checked per call, and received text is
// always checked.
//
// Copies share the text. Immutable, so thread-safe.
class ValidatedJson {
 public:
  // The JSON value `null`.
  ValidatedJson() = default;

  // Checks that *text is exactly one JSON value as the stubs require of
  // raw_json fields (strict JSON: no comments, NaN or trailing text;
  // surrounding whitespace allowed); kInvalidArgument otherwise. A null
  // `text` is `null`.
  static absl::StatusOr<ValidatedJson> Validate(
      std::shared_ptr<const std::string> text);
  static absl::StatusOr<ValidatedJson> Validate(std::string text);

  // For text the caller has already checked with a strict JSON parser (for
  // example simdjson's DOM parser, when the text was cached): it is not
  // checked again. The caller vouches that *text is exactly one JSON value;
  // if it is not, the response frame it is spliced into is not JSON and the
  // peer drops the connection. A null `text` is `null`.
  static ValidatedJson AlreadyValidated(
      std::shared_ptr<const std::string> text);

  // The JSON text; valid as long as this object or a copy of it lives.
  absl::string_view text() const {
    return text_ != nullptr ? absl::string_view(*text_) : "null";
  }

 private:
  explicit ValidatedJson(std::shared_ptr<const std::string> text)
      : text_(std::move(text)) {}

  std::shared_ptr<const std::string> text_;  // Null: the literal `null`.
};

// A raw_json field's value given apart from the message
// (ServerContext::SpliceRawJson): it replaces what the message holds in
// `field`.
struct RawJsonSplice {
  const google::protobuf::FieldDescriptor* field = nullptr;  // Not owned.
  ValidatedJson json;
};

}  // namespace zen::codegen_runtime

#endif  // ZEN_CODEGEN_RUNTIME_VALIDATED_JSON_H_
