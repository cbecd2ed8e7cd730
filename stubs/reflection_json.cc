#include "stubs/reflection_json.h"

#include <algorithm>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "stubs/json_value.h"

namespace zen::stubs::internal {
namespace {

namespace pb = google::protobuf;
namespace od = simdjson::ondemand;
using pb::FieldDescriptor;

// Types and enums whose JSON form protobuf special-cases (Timestamp as RFC
// 3339 text, Struct as any JSON, wrappers as bare values, NullValue as
// null): all of them live in package google.protobuf.
bool IsWellKnown(const pb::FileDescriptor* file) {
  return file->package() == "google.protobuf";
}

absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

absl::Status FieldError(const FieldDescriptor* field, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("field '", field->name(), "': ", what));
}

// Prefixes an error from inside a nested message with the field's name, so
// the message reads as a path ("route.method: ...").
absl::Status Nested(const FieldDescriptor* field, const absl::Status& status) {
  absl::string_view message = status.message();
  constexpr absl::string_view kPrefix = "field '";
  if (absl::StartsWith(message, kPrefix)) message.remove_prefix(kPrefix.size());
  return absl::Status(status.code(),
                      absl::StrCat("field '", field->name(), ".", message));
}

// ---- Printing ----

// Appends `s` as a JSON string. Returns whether it holds non-ASCII bytes
// (which the caller must check are UTF-8).
bool AppendEscaped(absl::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;
  unsigned char high_bits = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    high_bits |= c;
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default: {
        const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out->append(escape, sizeof(escape));
      }
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
  return (high_bits & 0x80) != 0;
}

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
  if (AppendEscaped(s, out) && !simdjson::validate_utf8(s.data(), s.size())) {
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
// repeated field.
absl::Status AppendOne(const pb::Message& message, const FieldEntry& entry,
                       int index, std::string* out) {
  const pb::Reflection* r = message.GetReflection();
  const FieldDescriptor* f = entry.field;
  const bool repeated = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(out, repeated ? r->GetRepeatedInt32(message, f, index)
                                    : r->GetInt32(message, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      absl::StrAppend(out, repeated ? r->GetRepeatedUInt32(message, f, index)
                                    : r->GetUInt32(message, f));
      break;
    // 64-bit integers are JSON numbers, as the reference's Ruby writes
    // every integer; it reads a quoted one as a String, which breaks its
    // arithmetic (an actor's `firstSeenAt / 1000`). protobuf's quoted form
    // is still accepted when parsing.
    case FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(out, repeated ? r->GetRepeatedInt64(message, f, index)
                                    : r->GetInt64(message, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      absl::StrAppend(out, repeated ? r->GetRepeatedUInt64(message, f, index)
                                    : r->GetUInt64(message, f));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      AppendFloat(repeated ? r->GetRepeatedDouble(message, f, index)
                           : r->GetDouble(message, f),
                  out);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      AppendFloat(repeated ? r->GetRepeatedFloat(message, f, index)
                           : r->GetFloat(message, f),
                  out);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append((repeated ? r->GetRepeatedBool(message, f, index)
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
        AppendEscaped(value->name(), out);  // An identifier: ASCII.
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s =
          repeated ? r->GetRepeatedStringReference(message, f, index, &scratch)
                   : r->GetStringReference(message, f, &scratch);
      if (entry.kind == FieldKind::kRawJson) {
        out->append(s);
      } else {
        absl::Status status = AppendString(f, s, out);
        if (!status.ok()) return status;
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

// ---- Parsing ----

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

// Parses one value (a singular field's, or one element of a repeated one).
absl::Status ParseOne(od::value& value, od::json_type type,
                      const FieldEntry& entry, pb::Message* message,
                      int depth) {
  const pb::Reflection* r = message->GetReflection();
  const FieldDescriptor* f = entry.field;
  const bool repeated = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v = 0;
      absl::Status s = ReadInteger(value, type, f, &v);
      if (!s.ok()) return s;
      repeated ? r->AddInt32(message, f, v) : r->SetInt32(message, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v = 0;
      absl::Status s = ReadInteger(value, type, f, &v);
      if (!s.ok()) return s;
      repeated ? r->AddInt64(message, f, v) : r->SetInt64(message, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v = 0;
      absl::Status s = ReadInteger(value, type, f, &v);
      if (!s.ok()) return s;
      repeated ? r->AddUInt32(message, f, v) : r->SetUInt32(message, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v = 0;
      absl::Status s = ReadInteger(value, type, f, &v);
      if (!s.ok()) return s;
      repeated ? r->AddUInt64(message, f, v) : r->SetUInt64(message, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double v = 0;
      absl::Status s = ReadDouble(value, type, f, &v);
      if (!s.ok()) return s;
      repeated ? r->AddDouble(message, f, v) : r->SetDouble(message, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double v = 0;
      absl::Status s = ReadDouble(value, type, f, &v);
      if (!s.ok()) return s;
      const float narrowed = static_cast<float>(v);
      repeated ? r->AddFloat(message, f, narrowed)
               : r->SetFloat(message, f, narrowed);
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool v = false;
      if (type != od::json_type::boolean ||
          value.get_bool().get(v) != simdjson::SUCCESS) {
        return FieldError(f, "expected true or false");
      }
      repeated ? r->AddBool(message, f, v) : r->SetBool(message, f, v);
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
      std::string s(v.data(), v.size());
      repeated ? r->AddString(message, f, std::move(s))
               : r->SetString(message, f, std::move(s));
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
        absl::Status s = ReadInteger(value, type, f, &number);
        if (!s.ok()) return s;
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

TypeTables::TypeTables(
    const google::protobuf::Descriptor* root,
    absl::Span<const google::protobuf::FieldDescriptor* const>
        raw_json_fields) {
  ComputeFastTypes(root);
  // The root is not registered in by_type_: its raw_json and fallback
  // fields apply only at the top level, so a nested occurrence of the same
  // type gets a plain table of its own.
  tables_.push_back(std::make_unique<TypeTable>());
  tables_.front()->type_ = root;
  Fill(tables_.front().get(), raw_json_fields);
}

void TypeTables::ComputeFastTypes(const google::protobuf::Descriptor* root) {
  // Every message type reachable through non-well-known message fields.
  std::vector<const pb::Descriptor*> reachable = {root};
  fast_.emplace(root, true);
  for (size_t i = 0; i < reachable.size(); ++i) {
    const pb::Descriptor* type = reachable[i];
    for (int j = 0; j < type->field_count(); ++j) {
      const FieldDescriptor* f = type->field(j);
      if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
      const pb::Descriptor* sub = f->message_type();
      if (IsWellKnown(sub->file())) continue;
      if (fast_.emplace(sub, true).second) reachable.push_back(sub);
    }
  }
  // A type is slow if one of its fields is slow in itself or is a message
  // of a slow type. Iterate to the fixpoint, so recursive types are judged
  // by their other fields.
  bool changed = true;
  while (changed) {
    changed = false;
    for (const pb::Descriptor* type : reachable) {
      bool& fast = fast_[type];
      if (!fast) continue;
      if (type->extension_range_count() > 0) {
        fast = false;
        changed = true;
        continue;
      }
      for (int j = 0; j < type->field_count(); ++j) {
        if (!IsFastField(type->field(j))) {
          fast = false;
          changed = true;
          break;
        }
      }
    }
  }
}

// An explicit json_name is printed as it is (WireKey), so it must need no
// escaping; and protobuf's printer, which prints fallback fields, would not
// use it. Either is a .proto the stubs cannot honour: a build error.
static void CheckExplicitJsonName(const FieldDescriptor* f, FieldKind kind) {
  const char* why = nullptr;
  if (kind == FieldKind::kFallback) {
    why = "json_name is not supported on a map, bytes or well-known field";
  }
  for (const char c : f->json_name()) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') {
      why = "json_name must need no JSON escaping";
    }
  }
  if (why == nullptr) return;
  std::fprintf(stderr, "zen stubs: %s: %s\n", f->full_name().c_str(), why);
  std::abort();
}

bool TypeTables::IsFastField(const google::protobuf::FieldDescriptor* f) const {
  if (f->is_map()) return false;
  switch (f->type()) {
    case FieldDescriptor::TYPE_BYTES:  // Base64 on the wire.
    case FieldDescriptor::TYPE_GROUP:
      return false;
    case FieldDescriptor::TYPE_ENUM:
      return !IsWellKnown(f->enum_type()->file());
    case FieldDescriptor::TYPE_MESSAGE: {
      if (IsJsonValueType(f->message_type())) return true;
      if (IsWellKnown(f->message_type()->file())) return false;
      auto it = fast_.find(f->message_type());
      return it != fast_.end() && it->second;
    }
    default:
      return true;
  }
}

const TypeTable* TypeTables::TableFor(
    const google::protobuf::Descriptor* type) {
  auto it = by_type_.find(type);
  if (it != by_type_.end()) return it->second;
  tables_.push_back(std::make_unique<TypeTable>());
  TypeTable* table = tables_.back().get();
  table->type_ = type;
  by_type_.emplace(type, table);  // Before Fill: recursive types end here.
  Fill(table, {});
  return table;
}

void TypeTables::Fill(TypeTable* table,
                      absl::Span<const google::protobuf::FieldDescriptor* const>
                          raw_json_fields) {
  const pb::Descriptor* type = table->type_;
  table->fields_.resize(type->field_count());
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* f = type->field(i);
    FieldEntry& entry = table->fields_[i];
    entry.field = f;
    if (std::find(raw_json_fields.begin(), raw_json_fields.end(), f) !=
        raw_json_fields.end()) {
      entry.kind = FieldKind::kRawJson;
      table->has_raw_json_ = true;
    } else if (!IsFastField(f)) {
      entry.kind = FieldKind::kFallback;
      table->has_fallback_ = true;
    } else {
      entry.kind = FieldKind::kFast;
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
          !IsJsonValueType(f->message_type())) {
        // TableFor may grow tables_, which holds pointers: `table` and
        // `entry` stay valid.
        const TypeTable* sub = TableFor(f->message_type());
        table->fields_[i].message = sub;
      }
    }
    if (f->has_json_name()) CheckExplicitJsonName(f, entry.kind);
    table->by_key_.emplace(f->name(), i);
    table->by_key_.emplace(f->json_name(), i);
  }
}

absl::Status AppendFieldValue(const google::protobuf::Message& message,
                              const FieldEntry& entry, std::string* out) {
  const FieldDescriptor* f = entry.field;
  if (!f->is_repeated()) return AppendOne(message, entry, -1, out);
  const int size = message.GetReflection()->FieldSize(message, f);
  out->push_back('[');
  for (int i = 0; i < size; ++i) {
    if (i > 0) out->push_back(',');
    absl::Status status = AppendOne(message, entry, i, out);
    if (!status.ok()) return status;
  }
  out->push_back(']');
  return absl::OkStatus();
}

absl::Status AppendFields(const google::protobuf::Message& message,
                          const TypeTable& table, bool* first, std::string* out,
                          const Splicing* splicing) {
  const pb::Reflection* r = message.GetReflection();
  for (const FieldEntry& entry : table.fields()) {
    if (entry.kind == FieldKind::kFallback) continue;
    const FieldDescriptor* f = entry.field;
    const RawJsonSplice* splice =
        splicing != nullptr && entry.kind == FieldKind::kRawJson
            ? splicing->Find(f)
            : nullptr;
    if (splice != nullptr) {
      if (!*first) out->push_back(',');
      *first = false;
      out->push_back('"');
      out->append(WireKey(f));
      out->append("\":");
      splicing->spliced->AppendBorrowed(splice->json.text());
      continue;
    }
    // HasField is presence-aware: an implicit-presence scalar is "set" when
    // not zero, as protobuf's printer decides without
    // always_print_primitive_fields.
    if (f->is_repeated() ? r->FieldSize(message, f) == 0
                         : !r->HasField(message, f)) {
      continue;
    }
    if (!*first) out->push_back(',');
    *first = false;
    out->push_back('"');
    // Proto names are identifiers and protoc checks json_name for quotes
    // and backslashes: no escaping.
    out->append(WireKey(f));
    out->append("\":");
    absl::Status status = AppendFieldValue(message, entry, out);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ParseFieldValue(simdjson::ondemand::value value,
                             const FieldEntry& entry,
                             google::protobuf::Message* message, int depth) {
  const FieldDescriptor* f = entry.field;
  od::json_type type;
  if (auto error = value.type().get(type)) return JsonError(error, f->name());
  if (type == od::json_type::null) return absl::OkStatus();
  if (!f->is_repeated()) return ParseOne(value, type, entry, message, depth);
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
    absl::Status status = ParseOne(v, element_type, entry, message, depth);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ParseObject(simdjson::ondemand::object object,
                         const TypeTable& table,
                         google::protobuf::Message* message, int depth) {
  if (depth > kMaxMessageDepth) {
    return absl::InvalidArgumentError("messages nested too deeply");
  }
  for (auto member : object) {
    od::field field;
    if (auto error = std::move(member).get(field)) {
      return JsonError(error, "object");
    }
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) {
      return JsonError(error, "object key");
    }
    const FieldEntry* entry = table.Find(ToAbsl(key));
    if (entry == nullptr) continue;  // Unknown: on-demand skips the value.
    absl::Status status =
        ParseFieldValue(field.value(), *entry, message, depth);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
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

absl::Status AppendJsonString(absl::string_view s, std::string* out) {
  if (AppendEscaped(s, out) && !simdjson::validate_utf8(s.data(), s.size())) {
    return absl::InvalidArgumentError("string is not valid UTF-8");
  }
  return absl::OkStatus();
}

void AppendFiniteDouble(double value, std::string* out) {
  AppendFloat(value, out);
}

absl::Status JsonError(simdjson::error_code error, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      what, ": invalid JSON (", simdjson::error_message(error), ")"));
}

}  // namespace zen::stubs::internal
