// Printing messages as the stubs' JSON (reflection_json.h).
#include <charconv>
#include <cmath>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "codegen_runtime/json_value_internal.h"
#include "codegen_runtime/reflection_json.h"
#include "rpc/json_writer.h"

namespace zen::codegen_runtime::internal {
namespace {

namespace pb = google::protobuf;
namespace od = simdjson::ondemand;
using pb::FieldDescriptor;

// Protobuf's mapping: non-finite numbers are the strings "NaN", "Infinity"
// and "-Infinity"; finite ones print in their shortest round-trip form.
template <typename Float>
void AppendFloat(Float value, std::string* out) {
  if (std::isnan(value)) {
    out->append("\"NaN\"");
  } else if (std::isinf(value)) {
    out->append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buffer[64];
    const std::to_chars_result r =
        std::to_chars(buffer, buffer + sizeof(buffer), value);
    out->append(buffer, r.ptr - buffer);
  }
}

absl::Status AppendString(const FieldDescriptor* field, const std::string& s,
                          std::string* out) {
  // Most strings are ASCII: the escaping loop notices, and only others pay
  // for the UTF-8 check.
  if (rpc::AppendJsonStringBytes(out, s) &&
      !simdjson::validate_utf8(s.data(), s.size())) {
    return FieldError(field, "string is not valid UTF-8");
  }
  return absl::OkStatus();
}

absl::Status AppendObject(const pb::Message& message, const TypeTable& table,
                          std::string* out) {
  out->push_back('{');
  bool first = true;
  absl::Status status = AppendFields(message, table, &first, out);
  out->push_back('}');
  return status;
}

// One value of `entry`'s field: the singular value, or element `index` of a
// repeated field. Read through `a`, the field's generated accessor, when the
// caller has one (a singular field of the generated class: index is -1),
// else through `r`, message's reflection, looked up once by the caller.
absl::Status AppendOne(const pb::Message& message, const pb::Reflection* r,
                       const FieldAccess* a, const FieldEntry& entry, int index,
                       std::string* out) {
  const FieldDescriptor* f = entry.field;
  const bool repeated = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(out, a != nullptr
                               ? static_cast<int32_t>(a->get_signed(message))
                           : repeated ? r->GetRepeatedInt32(message, f, index)
                                      : r->GetInt32(message, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      absl::StrAppend(out, a != nullptr
                               ? static_cast<uint32_t>(a->get_unsigned(message))
                           : repeated ? r->GetRepeatedUInt32(message, f, index)
                                      : r->GetUInt32(message, f));
      break;
    // 64-bit integers are JSON numbers, as the reference's Ruby writes
    // every integer; it reads a quoted one as a String, which breaks its
    // arithmetic (an actor's `firstSeenAt / 1000`). protobuf's quoted form
    // is still accepted when parsing.
    case FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(out, a != nullptr ? a->get_signed(message)
                           : repeated   ? r->GetRepeatedInt64(message, f, index)
                                        : r->GetInt64(message, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      absl::StrAppend(out, a != nullptr ? a->get_unsigned(message)
                           : repeated ? r->GetRepeatedUInt64(message, f, index)
                                      : r->GetUInt64(message, f));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      AppendFloat(a != nullptr ? a->get_double(message)
                  : repeated   ? r->GetRepeatedDouble(message, f, index)
                               : r->GetDouble(message, f),
                  out);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      AppendFloat(a != nullptr ? static_cast<float>(a->get_double(message))
                  : repeated   ? r->GetRepeatedFloat(message, f, index)
                               : r->GetFloat(message, f),
                  out);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append((a != nullptr ? a->get_signed(message) != 0
                   : repeated   ? r->GetRepeatedBool(message, f, index)
                                : r->GetBool(message, f))
                      ? "true"
                      : "false");
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = repeated ? r->GetRepeatedEnumValue(message, f, index)
                                  : r->GetEnumValue(message, f);
      const pb::EnumValueDescriptor* value =
          f->enum_type()->FindValueByNumber(number);
      // A number this build does not know (open enums keep them) prints as
      // the number, as protobuf does.
      if (value == nullptr) {
        absl::StrAppend(out, number);
      } else {
        rpc::AppendJsonStringBytes(out,
                                   value->name());  // An identifier: ASCII.
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s =
          a != nullptr ? a->get_string(message)
          : repeated
              ? r->GetRepeatedStringReference(message, f, index, &scratch)
              : r->GetStringReference(message, f, &scratch);
      if (entry.kind == FieldKind::kRawJson) {
        out->append(s);
      } else {
        ZEN_RETURN_IF_ERROR(AppendString(f, s, out));
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const pb::Message& sub = repeated
                                   ? r->GetRepeatedMessage(message, f, index)
                                   : r->GetMessage(message, f);
      absl::Status status = entry.message == nullptr
                                ? AppendJsonValue(sub, out)
                                : AppendObject(sub, *entry.message, out);
      if (!status.ok()) return Nested(f, status);
      break;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AppendFieldValue(const google::protobuf::Message& message,
                              const FieldEntry& entry, std::string* out) {
  return AppendFieldValue(message, message.GetReflection(), entry, out);
}

absl::Status AppendFieldValue(const google::protobuf::Message& message,
                              const google::protobuf::Reflection* r,
                              const FieldEntry& entry, std::string* out) {
  const FieldDescriptor* f = entry.field;
  if (!f->is_repeated()) return AppendOne(message, r, nullptr, entry, -1, out);
  const int size = r->FieldSize(message, f);
  out->push_back('[');
  for (int i = 0; i < size; ++i) {
    if (i > 0) out->push_back(',');
    ZEN_RETURN_IF_ERROR(AppendOne(message, r, nullptr, entry, i, out));
  }
  out->push_back(']');
  return absl::OkStatus();
}

absl::Status AppendFields(const google::protobuf::Message& message,
                          const TypeTable& table, bool* first, std::string* out,
                          const Splicing* splicing) {
  // Through the generated accessors where there are some; Reflection (looked
  // up once, and only if needed) for the rest.
  const bool accessible = table.Accessible(message);
  const google::protobuf::Reflection* r = nullptr;
  for (const FieldEntry& entry : table.fields()) {
    if (entry.kind == FieldKind::kFallback) continue;
    const FieldDescriptor* f = entry.field;
    const RawJsonSplice* splice =
        splicing != nullptr && entry.kind == FieldKind::kRawJson
            ? splicing->Find(f)
            : nullptr;
    if (splice != nullptr) {
      entry.AppendKey(*first, out);
      *first = false;
      splicing->spliced->AppendBorrowed(splice->json.text());
      continue;
    }
    const FieldAccess* a = accessible ? entry.access : nullptr;
    if (a == nullptr && r == nullptr) r = message.GetReflection();
    if (a != nullptr ? !a->has(message) : !IsSet(message, r, f)) continue;
    // Proto names are identifiers and protoc checks json_name for quotes
    // and backslashes: the key needs no escaping.
    entry.AppendKey(*first, out);
    *first = false;
    ZEN_RETURN_IF_ERROR(a != nullptr
                            ? AppendOne(message, nullptr, a, entry, -1, out)
                            : AppendFieldValue(message, r, entry, out));
  }
  return absl::OkStatus();
}

absl::Status AppendJsonString(absl::string_view s, std::string* out) {
  if (rpc::AppendJsonStringBytes(out, s) &&
      !simdjson::validate_utf8(s.data(), s.size())) {
    return absl::InvalidArgumentError("string is not valid UTF-8");
  }
  return absl::OkStatus();
}

void AppendFiniteDouble(double value, std::string* out) {
  AppendFloat(value, out);
}

}  // namespace zen::codegen_runtime::internal
