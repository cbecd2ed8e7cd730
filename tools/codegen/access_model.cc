#include "tools/codegen/access_model.h"

#include <string>

#include "google/protobuf/descriptor.pb.h"
#include "tools/codegen/names.h"

namespace zen::codegen {
namespace {

namespace pb = google::protobuf;

bool Eligible(const pb::FieldDescriptor* f, AccessorModel* a) {
  if (f->is_repeated() || f->real_containing_oneof() != nullptr) return false;
  if (f->options().ctype() != pb::FieldOptions::STRING) return false;
  std::string name = f->name();
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  // protobuf appends '_' to a field named like a C++ keyword (errno is
  // skipped too: a macro, whatever protobuf makes of it). Such fields are
  // left to Reflection rather than guessed.
  if (IsCppKeyword(name) || name == "errno") return false;
  switch (f->type()) {
    case pb::FieldDescriptor::TYPE_INT32:
    case pb::FieldDescriptor::TYPE_SINT32:
    case pb::FieldDescriptor::TYPE_SFIXED32:
      a->builder = "SignedField";
      a->value_type = "int32_t";
      break;
    case pb::FieldDescriptor::TYPE_INT64:
    case pb::FieldDescriptor::TYPE_SINT64:
    case pb::FieldDescriptor::TYPE_SFIXED64:
      a->builder = "SignedField";
      a->value_type = "int64_t";
      break;
    case pb::FieldDescriptor::TYPE_BOOL:
      a->builder = "SignedField";
      a->value_type = "bool";
      break;
    case pb::FieldDescriptor::TYPE_UINT32:
    case pb::FieldDescriptor::TYPE_FIXED32:
      a->builder = "UnsignedField";
      a->value_type = "uint32_t";
      break;
    case pb::FieldDescriptor::TYPE_UINT64:
    case pb::FieldDescriptor::TYPE_FIXED64:
      a->builder = "UnsignedField";
      a->value_type = "uint64_t";
      break;
    case pb::FieldDescriptor::TYPE_DOUBLE:
      a->builder = "FloatingField";
      a->value_type = "double";
      break;
    case pb::FieldDescriptor::TYPE_FLOAT:
      a->builder = "FloatingField";
      a->value_type = "float";
      break;
    case pb::FieldDescriptor::TYPE_STRING:
      a->builder = "StringField";
      break;
    default:
      return false;
  }
  a->number = f->number();
  a->name = name;
  a->explicit_presence = f->has_presence();
  return true;
}

void AddMessage(const pb::Descriptor* d, std::vector<MessageAccessModel>* out) {
  if (d->options().map_entry()) return;
  MessageAccessModel m;
  m.full_name = d->full_name();
  m.cpp_type = CppTypeName(d->full_name());
  for (int i = 0; i < d->field_count(); ++i) {
    AccessorModel a;
    if (Eligible(d->field(i), &a)) m.fields.push_back(std::move(a));
  }
  if (!m.fields.empty()) out->push_back(std::move(m));
  for (int i = 0; i < d->nested_type_count(); ++i) {
    AddMessage(d->nested_type(i), out);
  }
}

}  // namespace

void AddMessageAccess(const pb::FileDescriptor* file,
                      std::vector<MessageAccessModel>* out) {
  for (int i = 0; i < file->message_type_count(); ++i) {
    AddMessage(file->message_type(i), out);
  }
}

}  // namespace zen::codegen
