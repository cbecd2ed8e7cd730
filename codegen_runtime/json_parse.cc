// Parsing the stubs' JSON into messages (reflection_json.h).
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "codegen_runtime/json_value_internal.h"
#include "codegen_runtime/reflection_json.h"

namespace zen::codegen_runtime::internal {
namespace {

namespace pb = google::protobuf;
namespace od = simdjson::ondemand;
using pb::FieldDescriptor;

absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// Converts to T if the value is in T's range (and, from a double, integral),
// as protobuf's parser requires.
template <typename T>
bool FromInt64(int64_t v, T* out) {
  if (v < static_cast<int64_t>(std::numeric_limits<T>::min())) return false;
  if (v > 0 && static_cast<uint64_t>(v) >
                   static_cast<uint64_t>(std::numeric_limits<T>::max())) {
    return false;
  }
  *out = static_cast<T>(v);
  return true;
}

template <typename T>
bool FromUint64(uint64_t v, T* out) {
  if (v > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
  *out = static_cast<T>(v);
  return true;
}

template <typename T>
bool FromDouble(double d, T* out) {
  if (!std::isfinite(d) || d != std::trunc(d)) return false;
  // Bounds as exact powers of two: [-2^(bits-1), 2^(bits-1)) for signed T,
  // [0, 2^bits) for unsigned T.
  constexpr int kBits = std::numeric_limits<T>::digits;
  const double upper = std::ldexp(1.0, kBits);
  const double lower = std::numeric_limits<T>::is_signed ? -upper : 0.0;
  if (d < lower || d >= upper) return false;
  *out = static_cast<T>(d);
  return true;
}

// An integer field accepts a JSON number, or a string holding one (protobuf
// prints 64-bit integers as strings and accepts both forms for all).
template <typename T>
absl::Status ReadInteger(od::value& value, od::json_type type,
                         const FieldDescriptor* field, T* out) {
  bool ok = false;
  if (type == od::json_type::number) {
    od::number number;
    if (value.get_number().get(number) == simdjson::SUCCESS) {
      switch (number.get_number_type()) {
        case od::number_type::signed_integer:
          ok = FromInt64(number.get_int64(), out);
          break;
        case od::number_type::unsigned_integer:
          ok = FromUint64(number.get_uint64(), out);
          break;
        case od::number_type::floating_point_number:
          ok = FromDouble(number.get_double(), out);
          break;
      }
    }
  } else if (type == od::json_type::string) {
    std::string_view text;
    if (value.get_string().get(text) == simdjson::SUCCESS) {
      int64_t i;
      uint64_t u;
      double d;
      if (absl::SimpleAtoi(ToAbsl(text), &i)) {
        ok = FromInt64(i, out);
      } else if (absl::SimpleAtoi(ToAbsl(text), &u)) {
        ok = FromUint64(u, out);
      } else if (absl::SimpleAtod(ToAbsl(text), &d)) {
        ok = FromDouble(d, out);
      }
    }
  } else {
    return FieldError(field, "expected an integer");
  }
  if (!ok) return FieldError(field, "not an integer in the field's range");
  return absl::OkStatus();
}

// A floating-point field accepts a number, a string holding one, or the
// strings "NaN", "Infinity" and "-Infinity".
absl::Status ReadDouble(od::value& value, od::json_type type,
                        const FieldDescriptor* field, double* out) {
  if (type == od::json_type::number) {
    if (value.get_double().get(*out) != simdjson::SUCCESS) {
      return FieldError(field, "not a valid number");
    }
  } else if (type == od::json_type::string) {
    std::string_view text;
    if (value.get_string().get(text) != simdjson::SUCCESS) {
      return FieldError(field, "not a valid string");
    }
    if (text == "NaN") {
      *out = std::numeric_limits<double>::quiet_NaN();
    } else if (text == "Infinity") {
      *out = std::numeric_limits<double>::infinity();
    } else if (text == "-Infinity") {
      *out = -std::numeric_limits<double>::infinity();
    } else if (!absl::SimpleAtod(ToAbsl(text), out) || !std::isfinite(*out)) {
      return FieldError(field, "not a valid number");
    }
  } else {
    return FieldError(field, "expected a number");
  }
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT &&
      std::isfinite(*out) && std::fabs(*out) > FLT_MAX) {
    return FieldError(field, "number out of the range of a float");
  }
  return absl::OkStatus();
}

// Sets a singular field or appends to a repeated one: one overload per
// C++ type, so that the parsing below is written once per kind of JSON.
void Store(const FieldAccess* a, const pb::Reflection* r, pb::Message* m,
           const FieldDescriptor* f, int32_t v) {
  if (a != nullptr) return a->set_signed(m, v);
  f->is_repeated() ? r->AddInt32(m, f, v) : r->SetInt32(m, f, v);
}
void Store(const FieldAccess* a, const pb::Reflection* r, pb::Message* m,
           const FieldDescriptor* f, int64_t v) {
  if (a != nullptr) return a->set_signed(m, v);
  f->is_repeated() ? r->AddInt64(m, f, v) : r->SetInt64(m, f, v);
}
void Store(const FieldAccess* a, const pb::Reflection* r, pb::Message* m,
           const FieldDescriptor* f, uint32_t v) {
  if (a != nullptr) return a->set_unsigned(m, v);
  f->is_repeated() ? r->AddUInt32(m, f, v) : r->SetUInt32(m, f, v);
}
void Store(const FieldAccess* a, const pb::Reflection* r, pb::Message* m,
           const FieldDescriptor* f, uint64_t v) {
  if (a != nullptr) return a->set_unsigned(m, v);
  f->is_repeated() ? r->AddUInt64(m, f, v) : r->SetUInt64(m, f, v);
}
void Store(const FieldAccess* a, const pb::Reflection* r, pb::Message* m,
           const FieldDescriptor* f, double v) {
  if (a != nullptr) return a->set_double(m, v);
  f->is_repeated() ? r->AddDouble(m, f, v) : r->SetDouble(m, f, v);
}
void Store(const FieldAccess* a, const pb::Reflection* r, pb::Message* m,
           const FieldDescriptor* f, float v) {
  if (a != nullptr) return a->set_double(m, v);
  f->is_repeated() ? r->AddFloat(m, f, v) : r->SetFloat(m, f, v);
}
void Store(const FieldAccess* a, const pb::Reflection* r, pb::Message* m,
           const FieldDescriptor* f, bool v) {
  if (a != nullptr) return a->set_signed(m, v);
  f->is_repeated() ? r->AddBool(m, f, v) : r->SetBool(m, f, v);
}
// A string is assigned in place through an accessor: a reused message keeps
// its buffer.
void Store(const FieldAccess* a, const pb::Reflection* r, pb::Message* m,
           const FieldDescriptor* f, std::string_view v) {
  if (a != nullptr) {
    a->mutable_string(m)->assign(v.data(), v.size());
    return;
  }
  std::string copy(v.data(), v.size());
  f->is_repeated() ? r->AddString(m, f, std::move(copy))
                   : r->SetString(m, f, std::move(copy));
}

template <typename T>
absl::Status ParseInteger(od::value& value, od::json_type type,
                          const FieldDescriptor* f, const FieldAccess* a,
                          const pb::Reflection* r, pb::Message* message) {
  T v = 0;
  absl::Status status = ReadInteger(value, type, f, &v);
  if (status.ok()) Store(a, r, message, f, v);
  return status;
}

// A double or float field (ReadDouble checks a float's range).
template <typename T>
absl::Status ParseFloat(od::value& value, od::json_type type,
                        const FieldDescriptor* f, const FieldAccess* a,
                        const pb::Reflection* r, pb::Message* message) {
  double v = 0;
  absl::Status status = ReadDouble(value, type, f, &v);
  if (status.ok()) Store(a, r, message, f, static_cast<T>(v));
  return status;
}

// Parses one value (a singular field's, or one element of a repeated one).
// `a` is the field's generated accessor (if the message is of the generated
// class), else null and `r` is message's reflection, looked up once per
// field by the caller.
absl::Status ParseOne(od::value& value, od::json_type type,
                      const FieldEntry& entry, const FieldAccess* a,
                      const pb::Reflection* r, pb::Message* message,
                      int depth) {
  const FieldDescriptor* f = entry.field;
  const bool repeated = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return ParseInteger<int32_t>(value, type, f, a, r, message);
    case FieldDescriptor::CPPTYPE_INT64:
      return ParseInteger<int64_t>(value, type, f, a, r, message);
    case FieldDescriptor::CPPTYPE_UINT32:
      return ParseInteger<uint32_t>(value, type, f, a, r, message);
    case FieldDescriptor::CPPTYPE_UINT64:
      return ParseInteger<uint64_t>(value, type, f, a, r, message);
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return ParseFloat<double>(value, type, f, a, r, message);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return ParseFloat<float>(value, type, f, a, r, message);
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool v = false;
      if (type != od::json_type::boolean ||
          value.get_bool().get(v) != simdjson::SUCCESS) {
        return FieldError(f, "expected true or false");
      }
      Store(a, r, message, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string_view v;
      if (type != od::json_type::string) {
        return FieldError(f, "expected a string");
      }
      if (value.get_string().get(v) != simdjson::SUCCESS) {
        return FieldError(f, "not a valid string");
      }
      Store(a, r, message, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      int number = 0;
      if (type == od::json_type::string) {
        std::string_view name;
        if (value.get_string().get(name) != simdjson::SUCCESS) {
          return FieldError(f, "not a valid string");
        }
        const pb::EnumValueDescriptor* v =
            f->enum_type()->FindValueByName(std::string(name));
        // An enum name this build does not know is skipped, like an unknown
        // field (what ignore_unknown_fields does).
        if (v == nullptr) return absl::OkStatus();
        number = v->number();
      } else {
        ZEN_RETURN_IF_ERROR(ReadInteger(value, type, f, &number));
        // Closed (proto2) enums cannot hold unknown numbers; open ones keep
        // them.
        if (f->file()->syntax() != pb::FileDescriptor::SYNTAX_PROTO3 &&
            f->enum_type()->FindValueByNumber(number) == nullptr) {
          return absl::OkStatus();
        }
      }
      repeated ? r->AddEnumValue(message, f, number)
               : r->SetEnumValue(message, f, number);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      if (entry.message == nullptr) {  // A google.protobuf.Value: any JSON.
        pb::Message* sub = repeated ? r->AddMessage(message, f)
                                    : r->MutableMessage(message, f);
        absl::Status s = ParseJsonValue(value, sub, depth + 1);
        if (!s.ok()) return Nested(f, s);
        break;
      }
      od::object object;
      if (type != od::json_type::object ||
          value.get_object().get(object) != simdjson::SUCCESS) {
        return FieldError(f, "expected an object");
      }
      pb::Message* sub =
          repeated ? r->AddMessage(message, f) : r->MutableMessage(message, f);
      absl::Status s = ParseObject(object, *entry.message, sub, depth + 1);
      if (!s.ok()) return Nested(f, s);
      break;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseFieldValue(simdjson::ondemand::value value,
                             const FieldEntry& entry,
                             google::protobuf::Message* message, int depth) {
  const FieldDescriptor* f = entry.field;
  od::json_type type;
  if (auto error = value.type().get(type)) return JsonError(error, f->name());
  if (type == od::json_type::null) return absl::OkStatus();
  if (!f->is_repeated()) {
    const FieldAccess* a =
        entry.access != nullptr && entry.access_owner->Covers(*message)
            ? entry.access
            : nullptr;
    const pb::Reflection* r = a != nullptr ? nullptr : message->GetReflection();
    return ParseOne(value, type, entry, a, r, message, depth);
  }
  const pb::Reflection* r = message->GetReflection();
  od::array array;
  if (type != od::json_type::array ||
      value.get_array().get(array) != simdjson::SUCCESS) {
    return FieldError(f, "expected an array");
  }
  for (auto element : array) {
    od::value v;
    if (auto error = std::move(element).get(v)) {
      return JsonError(error, f->name());
    }
    od::json_type element_type;
    if (auto error = v.type().get(element_type)) {
      return JsonError(error, f->name());
    }
    if (element_type == od::json_type::null) {
      return FieldError(f, "null is not allowed in a repeated field");
    }
    ZEN_RETURN_IF_ERROR(
        ParseOne(v, element_type, entry, nullptr, r, message, depth));
  }
  return absl::OkStatus();
}

absl::Status ParseObject(simdjson::ondemand::object object,
                         const TypeTable& table,
                         google::protobuf::Message* message, int depth) {
  if (depth > kMaxMessageDepth) {
    return absl::InvalidArgumentError("messages nested too deeply");
  }
  return ForEachMember(
      object, "object",
      [&](absl::string_view key, od::value& value) -> absl::Status {
        const FieldEntry* entry = table.Find(key);
        // Unknown: on-demand skips the value.
        if (entry == nullptr) return absl::OkStatus();
        return ParseFieldValue(value, *entry, message, depth);
      });
}

absl::Status RawValueText(simdjson::ondemand::value value,
                          absl::string_view* text) {
  od::json_type type;
  if (auto error = value.type().get(type)) return JsonError(error, "value");
  std::string_view raw;
  if (type == od::json_type::object) {
    od::object object;
    if (auto error = value.get_object().get(object)) {
      return JsonError(error, "object");
    }
    if (auto error = object.raw_json().get(raw)) {
      return JsonError(error, "object");
    }
  } else if (type == od::json_type::array) {
    od::array array;
    if (auto error = value.get_array().get(array)) {
      return JsonError(error, "array");
    }
    if (auto error = array.raw_json().get(raw)) {
      return JsonError(error, "array");
    }
  } else {
    raw = value.raw_json_token();
  }
  *text = TrimJsonWhitespace(ToAbsl(raw));
  return absl::OkStatus();
}

absl::string_view TrimJsonWhitespace(absl::string_view text) {
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

absl::Status JsonError(simdjson::error_code error, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      what, ": invalid JSON (", simdjson::error_message(error), ")"));
}

}  // namespace zen::codegen_runtime::internal
