#include "tools/codegen/access_model.h"

#include <set>
#include <string>

#include "google/protobuf/descriptor.pb.h"
#include "tools/codegen/names.h"

namespace zen::codegen {
namespace {

namespace pb = google::protobuf;

// C++ keywords and alternative tokens: protobuf appends '_' to a field so
// named; such fields get no accessor here.
bool IsCppKeyword(const std::string& name) {
  static const std::set<std::string>* const kKeywords =
      new std::set<std::string>{
          "alignas",       "alignof",     "and",
          "and_eq",        "asm",         "auto",
          "bitand",        "bitor",       "bool",
          "break",         "case",        "catch",
          "char",          "char8_t",     "char16_t",
          "char32_t",      "class",       "compl",
          "concept",       "const",       "consteval",
          "constexpr",     "constinit",   "const_cast",
          "continue",      "co_await",    "co_return",
          "co_yield",      "decltype",    "default",
          "delete",        "do",          "double",
          "dynamic_cast",  "else",        "enum",
          "explicit",      "export",      "extern",
          "false",         "float",       "for",
          "friend",        "goto",        "if",
          "inline",        "int",         "long",
          "mutable",       "namespace",   "new",
          "noexcept",      "not",         "not_eq",
          "nullptr",       "operator",    "or",
          "or_eq",         "private",     "protected",
          "public",        "register",    "reinterpret_cast",
          "requires",      "return",      "short",
          "signed",        "sizeof",      "static",
          "static_assert", "static_cast", "struct",
          "switch",        "template",    "this",
          "thread_local",  "throw",       "true",
          "try",           "typedef",     "typeid",
          "typename",      "union",       "unsigned",
          "using",         "virtual",     "void",
          "volatile",      "wchar_t",     "while",
          "xor",           "xor_eq",      "NULL",
          "errno"};
  return kKeywords->count(name) > 0;
}

bool Eligible(const pb::FieldDescriptor* f, AccessorModel* a) {
  if (f->is_repeated() || f->real_containing_oneof() != nullptr) return false;
  if (f->options().ctype() != pb::FieldOptions::STRING) return false;
  std::string name = f->name();
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (IsCppKeyword(name)) return false;
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
