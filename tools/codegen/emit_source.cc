#include <map>
#include <string>
#include <vector>

#include "tools/codegen/emit.h"
#include "tools/codegen/layout.h"

namespace zen::codegen {
namespace {

using google::protobuf::io::Printer;

std::string CodecName(const ServiceModel& service, const MethodModel& method) {
  // The underscore keeps service "AB" + method "C" apart from "A" + "BC".
  return service.name + "_" + method.name + "Codec";
}

void EmitCodec(const ServiceModel& service, const MethodModel& method,
               Printer* p) {
  p->PrintRaw(LayoutCall(0, "const ::zen::codegen_runtime::MethodCodec&",
                         CodecName(service, method), {}, ") {",
                         CallKind::kDeclaration));
  // Not a function-local static: its guard variable is a lock that a fork()
  // during the construction would leave taken in the child
  // (codegen_runtime/protobuf_state.h).
  p->Print(
      "  static ::zen::codegen_runtime::ForkSafeLazy<\n"
      "      ::zen::codegen_runtime::MethodCodec>\n"
      "      codec;\n"
      "  return codec.Get([] {\n");
  p->PrintRaw(LayoutCall(4, "::zen::codegen_runtime::MethodSpec", "spec",
                         {service.name + "::k" + method.name + "MethodName",
                          method.request_type + "::descriptor()",
                          method.response_type + "::descriptor()"},
                         ");"));
  for (const std::string& field : method.request_raw_json) {
    p->Print({{"field", field}}, "    spec.AddRequestRawJson(\"$field$\");\n");
  }
  for (const std::string& field : method.response_raw_json) {
    p->Print({{"field", field}}, "    spec.AddResponseRawJson(\"$field$\");\n");
  }
  for (const std::string& field : method.positional_args) {
    p->Print({{"field", field}}, "    spec.AddPositionalArg(\"$field$\");\n");
  }
  if (!method.result_field.empty()) {
    p->Print({{"field", method.result_field}},
             "    spec.SetResultField(\"$field$\");\n");
  }
  if (method.null_when_empty) p->Print("    spec.SetNullWhenEmpty(true);\n");
  p->Print(
      "    return new ::zen::codegen_runtime::MethodCodec(spec);\n"
      "  });\n"
      "}\n");
}

void EmitService(const ServiceModel& service, Printer* p) {
  p->Print("\n");
  if (service.methods.empty()) {
    p->Print({{"name", service.name}},
             "void $name$::Service::RegisterOn(::zen::rpc::Server*) {}\n");
    return;
  }
  p->Print({{"name", service.name}},
           "void $name$::Service::RegisterOn(::zen::rpc::Server* server) {\n");
  for (const MethodModel& method : service.methods) {
    p->PrintRaw(LayoutCall(2, "", "::zen::codegen_runtime::RegisterUnary",
                           {"server", CodecName(service, method) + "()", "this",
                            "&Service::" + method.name},
                           ");"));
  }
  p->Print("}\n");
  for (const MethodModel& method : service.methods) {
    p->Print("\n");
    p->PrintRaw(LayoutCall(
        0, "::absl::Status", service.name + "::Service::" + method.name,
        {"::zen::codegen_runtime::ServerContext*",
         "const " + method.request_type + "&", method.response_type + "*"},
        ") {", CallKind::kDeclaration));
    p->PrintRaw(LayoutCall(2, "return",
                           "::zen::codegen_runtime::UnimplementedError",
                           {"k" + method.name + "MethodName"}, ");"));
    p->Print("}\n");
  }
}

void EmitStub(const ServiceModel& service, Printer* p) {
  for (const MethodModel& method : service.methods) {
    const std::string codec = CodecName(service, method) + "()";
    p->Print("\n");
    p->PrintRaw(LayoutCall(0, "::absl::StatusOr<" + method.response_type + ">",
                           service.name + "::Stub::" + method.name,
                           {"const " + method.request_type + "& request",
                            "const ::zen::rpc::CallOptions& options"},
                           ") {", CallKind::kDeclaration));
    p->PrintRaw(LayoutCall(
        2, "return",
        "::zen::codegen_runtime::CallUnary<" + method.response_type + ">",
        {"channel_", codec, "request", "options"}, ");"));
    p->Print("}\n\n");
    p->PrintRaw(LayoutCall(0, "::absl::Status",
                           service.name + "::Stub::" + method.name,
                           {"const " + method.request_type + "& request",
                            method.response_type + "* response",
                            "const ::zen::rpc::CallOptions& options"},
                           ") {", CallKind::kDeclaration));
    p->PrintRaw(LayoutCall(
        2, "return", "::zen::codegen_runtime::CallUnaryInto",
        {"channel_", codec, "request", "options", "response"}, ");"));
    p->Print("}\n\n");
    p->PrintRaw(LayoutCall(0, "void",
                           service.name + "::Stub::" + method.name + "Async",
                           {"const " + method.request_type + "& request",
                            "const ::zen::rpc::CallOptions& options",
                            "Callback<" + method.response_type + "> done"},
                           ") {", CallKind::kDeclaration));
    p->PrintRaw(LayoutCall(
        2, "",
        "::zen::codegen_runtime::CallUnaryAsync<" + method.response_type + ">",
        {"channel_", codec, "request", "options", "std::move(done)"}, ");"));
    p->Print("}\n");
  }
}

}  // namespace

void EmitSource(const FileModel& file, google::protobuf::io::Printer* p) {
  p->Print({{"proto", file.proto_path}, {"header", file.header}},
           "// Generated by protoc-gen-zenrpc. DO NOT EDIT.\n"
           "// source: $proto$\n"
           "#include \"$header$\"\n");
  const bool services = !file.services.empty();
  const bool messages = !file.messages.empty();
  if (!services && !messages) return;
  p->Print("\n");
  if (messages) p->Print("#include <typeinfo>\n");
  if (services) p->Print("#include <utility>\n");
  p->Print("\n");
  if (messages) p->Print("#include \"codegen_runtime/field_access.h\"\n");
  if (services) {
    p->Print(
        "#include \"codegen_runtime/method_codec.h\"\n"
        "#include \"codegen_runtime/protobuf_state.h\"\n"
        "#include \"codegen_runtime/service_support.h\"\n");
  }
  if (!services) {
    EmitAccess(file, p);
    return;
  }
  if (!file.cpp_namespace.empty()) {
    p->Print({{"ns", file.cpp_namespace}}, "\nnamespace $ns$ {\n");
  }
  p->Print("namespace {\n");
  bool first = true;
  for (const ServiceModel& service : file.services) {
    for (const MethodModel& method : service.methods) {
      p->Print("\n");
      if (first) {
        p->Print(
            "// How each method's messages look on the wire; built on first "
            "use.\n");
        first = false;
      }
      EmitCodec(service, method, p);
    }
  }
  p->Print("\n}  // namespace\n");
  for (const ServiceModel& service : file.services) {
    EmitService(service, p);
    EmitStub(service, p);
  }
  if (!file.cpp_namespace.empty()) {
    p->Print({{"ns", file.cpp_namespace}}, "\n}  // namespace $ns$\n");
  }
  EmitAccess(file, p);
}

}  // namespace zen::codegen
