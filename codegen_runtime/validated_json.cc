#include "codegen_runtime/validated_json.h"

#include <utility>

#include "base/status_macros.h"
#include "codegen_runtime/message_json.h"
#include "codegen_runtime/padded_json.h"

namespace zen::codegen_runtime {

absl::StatusOr<ValidatedJson> ValidatedJson::Validate(
    std::shared_ptr<const std::string> text) {
  if (text != nullptr) {
    // Parsed in place when the string has spare capacity for the parser's
    // read-ahead; copied into a padded buffer otherwise. Once, either way.
    const bool padded = text->capacity() - text->size() >= kJsonPadding;
    ZEN_RETURN_IF_ERROR(ValidateJsonValue(*text, padded));
  }
  return ValidatedJson(std::move(text));
}

absl::StatusOr<ValidatedJson> ValidatedJson::Validate(std::string text) {
  return Validate(std::make_shared<const std::string>(std::move(text)));
}

ValidatedJson ValidatedJson::AlreadyValidated(
    std::shared_ptr<const std::string> text) {
  return ValidatedJson(std::move(text));
}

}  // namespace zen::codegen_runtime
