#include "agent/model/json_fields.h"

#include <cmath>
#include <limits>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace zen {
namespace json_fields {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::string_view ToStd(absl::string_view text) {
  return std::string_view(text.data(), text.size());
}

absl::string_view TypeName(element_type type) {
  switch (type) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "a number";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "an unknown value";
}

absl::Status WrongType(absl::string_view path, absl::string_view expected,
                       element value) {
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": expected ", expected, ", got ", TypeName(value.type())));
}

absl::StatusOr<int64_t> IntValue(element value, absl::string_view path) {
  switch (value.type()) {
    case element_type::INT64:
      return value.get_int64().value_unsafe();
    case element_type::DOUBLE: {
      const double number = value.get_double().value_unsafe();
      // 2^63 is exactly representable; every whole double below it fits.
      constexpr double kLimit = 9223372036854775808.0;
      if (std::trunc(number) == number && number >= -kLimit &&
          number < kLimit) {
        return static_cast<int64_t>(number);
      }
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": expected a whole number in range"));
    }
    case element_type::UINT64:
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": number out of range"));
    default:
      return WrongType(path, "an integer", value);
  }
}

}  // namespace

absl::StatusOr<element> ParseDocument(simdjson::dom::parser* parser,
                                      absl::string_view text,
                                      absl::string_view what,
                                      size_t max_bytes) {
  if (text.size() > max_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(what, ": document of ", text.size(),
                     " bytes is over the limit of ", max_bytes));
  }
  const simdjson::padded_string padded(text.data(), text.size());
  element root;
  const simdjson::error_code error = parser->parse(padded).get(root);
  if (error != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": malformed JSON: ", simdjson::error_message(error)));
  }
  return root;
}

std::string FieldPath(absl::string_view path, absl::string_view key) {
  if (path.empty()) return std::string(key);
  return absl::StrCat(path, ".", key);
}

std::string IndexPath(absl::string_view path, size_t index) {
  return absl::StrCat(path, "[", index, "]");
}

std::optional<element> Field(simdjson::dom::object object,
                             absl::string_view key) {
  element value;
  if (object.at_key(ToStd(key)).get(value) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  if (value.is_null()) return std::nullopt;
  return value;
}

absl::StatusOr<bool> BoolField(simdjson::dom::object object,
                               absl::string_view key, bool default_value,
                               absl::string_view path) {
  const std::optional<element> value = Field(object, key);
  if (!value.has_value()) return default_value;
  bool result = false;
  if (value->get_bool().get(result) != simdjson::SUCCESS) {
    return WrongType(FieldPath(path, key), "a boolean", *value);
  }
  return result;
}

absl::StatusOr<int64_t> IntField(simdjson::dom::object object,
                                 absl::string_view key, int64_t default_value,
                                 absl::string_view path) {
  const std::optional<element> value = Field(object, key);
  if (!value.has_value()) return default_value;
  return IntValue(*value, FieldPath(path, key));
}

absl::StatusOr<std::string> StringField(simdjson::dom::object object,
                                        absl::string_view key,
                                        absl::string_view default_value,
                                        absl::string_view path) {
  const std::optional<element> value = Field(object, key);
  if (!value.has_value()) return std::string(default_value);
  return StringValue(*value, FieldPath(path, key));
}

absl::StatusOr<std::optional<simdjson::dom::array>> ArrayField(
    simdjson::dom::object object, absl::string_view key,
    absl::string_view path) {
  const std::optional<element> value = Field(object, key);
  if (!value.has_value()) return std::optional<simdjson::dom::array>();
  simdjson::dom::array array;
  if (value->get_array().get(array) != simdjson::SUCCESS) {
    return WrongType(FieldPath(path, key), "an array", *value);
  }
  return std::optional<simdjson::dom::array>(array);
}

absl::StatusOr<std::optional<simdjson::dom::object>> ObjectField(
    simdjson::dom::object object, absl::string_view key,
    absl::string_view path) {
  const std::optional<element> value = Field(object, key);
  if (!value.has_value()) return std::optional<simdjson::dom::object>();
  simdjson::dom::object result;
  if (value->get_object().get(result) != simdjson::SUCCESS) {
    return WrongType(FieldPath(path, key), "an object", *value);
  }
  return std::optional<simdjson::dom::object>(result);
}

absl::StatusOr<std::string> StringValue(element value, absl::string_view path) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    return WrongType(path, "a string", value);
  }
  return std::string(text);
}

absl::StatusOr<std::string> IdValue(element value, absl::string_view path) {
  if (value.type() == element_type::STRING) return StringValue(value, path);
  if (value.type() == element_type::INT64) {
    return absl::StrCat(value.get_int64().value_unsafe());
  }
  if (value.type() == element_type::UINT64) {
    return absl::StrCat(value.get_uint64().value_unsafe());
  }
  return WrongType(path, "a string or an integer", value);
}

absl::Status ForEachString(
    simdjson::dom::array array, absl::string_view path,
    absl::FunctionRef<absl::Status(absl::string_view value, size_t index)> fn) {
  size_t index = 0;
  for (element value : array) {
    std::string_view text;
    if (value.get_string().get(text) != simdjson::SUCCESS) {
      return WrongType(IndexPath(path, index), "a string", value);
    }
    ZEN_RETURN_IF_ERROR(fn(absl::string_view(text.data(), text.size()), index));
    ++index;
  }
  return absl::OkStatus();
}

absl::StatusOr<IpSet> IpSetValue(simdjson::dom::array array,
                                 absl::string_view path) {
  IpSet::Builder builder;
  ZEN_RETURN_IF_ERROR(ForEachString(
      array, path, [&](absl::string_view entry, size_t index) -> absl::Status {
        absl::Status added = builder.Add(entry);
        if (added.ok()) return added;
        return absl::InvalidArgumentError(
            absl::StrCat(IndexPath(path, index), ": ", added.message()));
      }));
  return std::move(builder).Build();
}

absl::StatusOr<simdjson::dom::object> ObjectValue(element value,
                                                  absl::string_view path) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return WrongType(path, "an object", value);
  }
  return object;
}

}  // namespace json_fields
}  // namespace zen
