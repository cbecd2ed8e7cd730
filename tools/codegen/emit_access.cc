// The registration of a file's message accessors in its .zenrpc.cc
// (codegen_runtime/field_access.h).
#include <string>

#include "tools/codegen/emit.h"

namespace zen::codegen {

using google::protobuf::io::Printer;

namespace {

std::string PresenceTest(const AccessorModel& a) {
  if (a.explicit_presence) {
    return "&rt::ExplicitPresence<M, &M::has_" + a.name + ">";
  }
  if (a.value_type.empty()) return "&rt::NotEmpty<M, &M::" + a.name + ">";
  return "&rt::NotZero<M, " + a.value_type + ", &M::" + a.name + ">";
}

std::string Builder(const AccessorModel& a) {
  if (a.value_type.empty()) {
    return "rt::StringField<M, &M::" + a.name + ", &M::mutable_" + a.name + ">";
  }
  return "rt::" + a.builder + "<M, " + a.value_type + ", &M::" + a.name +
         ", &M::set_" + a.name + ">";
}

}  // namespace

void EmitAccess(const FileModel& file, Printer* p) {
  if (file.messages.empty()) return;
  p->Print(
      "\n"
      "// Typed access to the messages' fields for the JSON codec, registered\n"
      "// at load (codegen_runtime/field_access.h).\n"
      "namespace {\n");
  int index = 0;
  for (const MessageAccessModel& m : file.messages) {
    p->Print({{"index", std::to_string(index++)},
              {"type", m.cpp_type},
              {"name", m.full_name}},
             "\n"
             "[[maybe_unused]] const bool kFieldAccess$index$ = [] {\n"
             "  using M = $type$;\n"
             "  namespace rt = ::zen::codegen_runtime;\n"
             "  return rt::RegisterMessageAccess(\n"
             "      \"$name$\", typeid(M),\n"
             "      {\n");
    for (const AccessorModel& a : m.fields) {
      p->Print({{"builder", Builder(a)},
                {"number", std::to_string(a.number)},
                {"has", PresenceTest(a)}},
               "          $builder$(\n"
               "              $number$, $has$),\n");
    }
    p->Print(
        "      });\n"
        "}();\n");
  }
  p->Print("\n}  // namespace\n");
}

}  // namespace zen::codegen
