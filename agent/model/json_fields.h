// Typed, optional field access over simdjson's DOM for the settings
// documents, with errors that name the offending field.
//
// The API's documents evolve: unknown keys are ignored, and a key that is
// absent or `null` takes the caller's default. A key that is present with the
// wrong type is an error (kInvalidArgument), because guessing would apply
// settings nobody configured. `path` arguments name the object being read,
// e.g. "endpoints[2].rateLimiting", and only serve error messages.
//
// Every element, object and array here points into a simdjson::dom::parser;
// it stays valid only while that parser lives and parses nothing else.
#ifndef ZEN_AGENT_MODEL_JSON_FIELDS_H_
#define ZEN_AGENT_MODEL_JSON_FIELDS_H_

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/model/ip_set.h"

namespace zen {
namespace json_fields {

// Parses `text` with `*parser` (strict JSON; simdjson's own nesting limit).
// `what` names the document in errors ("runtime config"). Copies `text` into
// a padded buffer, since simdjson reads SIMDJSON_PADDING bytes past the end.
// Returns kInvalidArgument for malformed JSON and kResourceExhausted when
// `text` is longer than `max_bytes`.
absl::StatusOr<simdjson::dom::element> ParseDocument(
    simdjson::dom::parser* parser, absl::string_view text,
    absl::string_view what, size_t max_bytes);

// "path.key", or "key" when `path` is empty.
std::string FieldPath(absl::string_view path, absl::string_view key);
// "path[index]".
std::string IndexPath(absl::string_view path, size_t index);

// The value under `key`; nullopt when the key is absent or its value is null.
std::optional<simdjson::dom::element> Field(simdjson::dom::object object,
                                            absl::string_view key);

absl::StatusOr<bool> BoolField(simdjson::dom::object object,
                               absl::string_view key, bool default_value,
                               absl::string_view path);

// Accepts any JSON integer that fits in int64_t, and a number written with a
// fraction or exponent when its value is a whole number in range (1e3).
absl::StatusOr<int64_t> IntField(simdjson::dom::object object,
                                 absl::string_view key, int64_t default_value,
                                 absl::string_view path);

absl::StatusOr<std::string> StringField(simdjson::dom::object object,
                                        absl::string_view key,
                                        absl::string_view default_value,
                                        absl::string_view path);

// nullopt when absent or null.
absl::StatusOr<std::optional<simdjson::dom::array>> ArrayField(
    simdjson::dom::object object, absl::string_view key,
    absl::string_view path);
absl::StatusOr<std::optional<simdjson::dom::object>> ObjectField(
    simdjson::dom::object object, absl::string_view key,
    absl::string_view path);

// `element` as a string; `path` names it.
absl::StatusOr<std::string> StringValue(simdjson::dom::element element,
                                        absl::string_view path);

// An identifier given as a string or as an integer (kept as its decimal
// text), since APIs are not always consistent about user ids.
absl::StatusOr<std::string> IdValue(simdjson::dom::element element,
                                    absl::string_view path);

// Calls `fn(value, index)` for each element of `array`, which must all be
// strings; stops at and returns the first error, its own or `fn`'s. `value`
// points into the parser (see above).
absl::Status ForEachString(
    simdjson::dom::array array, absl::string_view path,
    absl::FunctionRef<absl::Status(absl::string_view value, size_t index)> fn);

// An array of IP addresses and CIDR blocks (strings) as an IpSet. A bad
// entry is kInvalidArgument naming it by position: "path[3]: invalid IP...".
absl::StatusOr<IpSet> IpSetValue(simdjson::dom::array array,
                                 absl::string_view path);

// `element` as an object; `path` names it.
absl::StatusOr<simdjson::dom::object> ObjectValue(
    simdjson::dom::element element, absl::string_view path);

}  // namespace json_fields
}  // namespace zen

#endif  // ZEN_AGENT_MODEL_JSON_FIELDS_H_
