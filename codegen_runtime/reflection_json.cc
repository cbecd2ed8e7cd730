#include "codegen_runtime/reflection_json.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "codegen_runtime/json_value_internal.h"

namespace zen::codegen_runtime::internal {

namespace pb = google::protobuf;
using pb::FieldDescriptor;

namespace {

// The generated accessor of `f`, if the registered one fits its kind (a
// descriptor from another pool may share the name but not the fields).
const FieldAccess* AccessFor(const MessageAccess& access,
                             const FieldDescriptor* f) {
  if (f->is_repeated() || f->real_containing_oneof() != nullptr) {
    return nullptr;
  }
  const FieldAccess* a = access.Find(f->number());
  if (a == nullptr) return nullptr;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_BOOL:
      return a->get_signed != nullptr ? a : nullptr;
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return a->get_unsigned != nullptr ? a : nullptr;
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
      return a->get_double != nullptr ? a : nullptr;
    case FieldDescriptor::CPPTYPE_STRING:
      return a->get_string != nullptr ? a : nullptr;
    default:
      return nullptr;
  }
}

}  // namespace

bool IsWellKnown(const pb::FileDescriptor* file) {
  return file->package() == "google.protobuf";
}

absl::Status FieldError(const FieldDescriptor* field, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("field '", field->name(), "': ", what));
}

absl::Status Nested(const FieldDescriptor* field, const absl::Status& status) {
  absl::string_view message = status.message();
  constexpr absl::string_view kPrefix = "field '";
  if (absl::StartsWith(message, kPrefix)) message.remove_prefix(kPrefix.size());
  return absl::Status(status.code(),
                      absl::StrCat("field '", field->name(), ".", message));
}

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
  std::fprintf(stderr, "codegen_runtime: %s: %s\n", f->full_name().c_str(),
               why);
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
  table->access_ = FindMessageAccess(type->full_name());
  table->fields_.resize(type->field_count());
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* f = type->field(i);
    FieldEntry& entry = table->fields_[i];
    entry.field = f;
    entry.comma_key = absl::StrCat(",\"", WireKey(f), "\":");
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
    if (table->access_ != nullptr && entry.kind == FieldKind::kFast) {
      entry.access = AccessFor(*table->access_, f);
      if (entry.access != nullptr) entry.access_owner = table->access_;
    }
    if (f->has_json_name()) CheckExplicitJsonName(f, entry.kind);
    table->by_key_.emplace(f->name(), i);
    table->by_key_.emplace(f->json_name(), i);
  }
}

}  // namespace zen::codegen_runtime::internal
