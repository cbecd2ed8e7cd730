#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "tools/codegen/emit.h"
#include "tools/codegen/layout.h"

namespace zen::codegen {
namespace {

using Vars = std::map<std::string, std::string>;
using google::protobuf::io::Printer;

void EmitMethodNames(const ServiceModel& service, Printer* p) {
  p->Print("  // The name of each method on the wire.\n");
  for (const MethodModel& method : service.methods) {
    p->PrintRaw(LayoutAssignment(
        2,
        "static constexpr ::absl::string_view k" + method.name + "MethodName",
        "\"" + method.wire_name + "\""));
  }
  p->Print("  // Every method's wire name, in declaration order.\n");
  const std::string head =
      "  static constexpr ::std::array<::absl::string_view, " +
      std::to_string(service.methods.size()) + "> kMethodNames = {";
  if (service.methods.empty()) {
    p->PrintRaw(head + "};\n");
    return;
  }
  // A trailing comma keeps clang-format at one name per line.
  p->PrintRaw(head + "\n");
  for (const MethodModel& method : service.methods) {
    p->PrintRaw("      k" + method.name + "MethodName,\n");
  }
  p->Print("  };\n");
}

void EmitService(const ServiceModel& service, Printer* p) {
  p->Print(
      "\n"
      "  // The server side. Derive from it and override the methods this\n"
      "  // server implements; the others answer UNIMPLEMENTED. A request\n"
      "  // that cannot be decoded is answered INVALID_ARGUMENT before any\n"
      "  // method runs. A method that returns OK sends *response (unless it\n"
      "  // responded early with context->RespondNow()); one that returns an\n"
      "  // error sends that error. Methods run on server threads, several at\n"
      "  // once, so implementations must be thread-safe.\n"
      "  class Service {\n"
      "   public:\n"
      "    Service() = default;\n"
      "    virtual ~Service() = default;\n"
      "    Service(const Service&) = delete;\n"
      "    Service& operator=(const Service&) = delete;\n"
      "\n"
      "    // Registers every method on `server` under its wire name. Call it\n"
      "    // before server->Start(). Neither owns the other: this Service\n"
      "    // must outlive the server's calls (stop the server first).\n"
      "    void RegisterOn(::zen::rpc::Server* server);\n");
  for (const MethodModel& method : service.methods) {
    p->Print("\n");
    p->PrintRaw(LayoutComment(4, method.comment));
    p->PrintRaw(LayoutCall(4, "virtual ::absl::Status", method.name,
                           {"::zen::codegen_runtime::ServerContext* context",
                            "const " + method.request_type + "& request",
                            method.response_type + "* response"},
                           ");", CallKind::kDeclaration));
  }
  p->Print("  };\n");
}

void EmitStub(const ServiceModel& service, Printer* p) {
  p->Print(
      "\n"
      "  // The client side: typed calls over a Channel. Thread-safe. Errors\n"
      "  // are the channel's (UNAVAILABLE, DEADLINE_EXCEEDED, ...), the\n"
      "  // server's, or INVALID_ARGUMENT when the request cannot be encoded\n"
      "  // or the result cannot be decoded.\n"
      "  class Stub {\n"
      "   public:\n"
      "    // Receives the outcome of an asynchronous call, exactly once, on "
      "a\n"
      "    // channel thread (or on the caller's, when the call fails before\n"
      "    // it is sent): it must not block.\n"
      "    template <typename Response>\n"
      "    using Callback = ::std::function<void(::absl::StatusOr<Response>)>;"
      "\n"
      "\n"
      "    // `channel` is not owned and must outlive the stub.\n"
      "    explicit Stub(::zen::rpc::Channel* channel) : channel_(channel) "
      "{}\n");
  for (const MethodModel& method : service.methods) {
    p->Print("\n");
    p->PrintRaw(LayoutComment(4, method.comment));
    p->PrintRaw(LayoutCall(4, "::absl::StatusOr<" + method.response_type + ">",
                           method.name,
                           {"const " + method.request_type + "& request",
                            "const ::zen::rpc::CallOptions& options = {}"},
                           ");", CallKind::kDeclaration));
    p->PrintRaw(LayoutComment(4, {"Like " + method.name +
                                  ", but returns at once; `done` gets the "
                                  "outcome."}));
    p->PrintRaw(LayoutCall(4, "void", method.name + "Async",
                           {"const " + method.request_type + "& request",
                            "const ::zen::rpc::CallOptions& options",
                            "Callback<" + method.response_type + "> done"},
                           ");", CallKind::kDeclaration));
  }
  // With no method, nothing reads channel_ (clang warns of that).
  p->Print({{"unused", service.methods.empty() ? "[[maybe_unused]] " : ""}},
           "\n"
           "   private:\n"
           "    $unused$::zen::rpc::Channel* channel_;  // Not owned.\n"
           "  };\n");
}

void EmitClass(const ServiceModel& service, Printer* p) {
  p->PrintRaw(LayoutComment(0, service.comment));
  p->Print({{"name", service.name}},
           "class $name$ final {\n"
           " public:\n");
  EmitMethodNames(service, p);
  EmitService(service, p);
  EmitStub(service, p);
  p->Print({{"name", service.name}},
           "\n"
           "  // Only a scope for Service and Stub.\n"
           "  $name$() = delete;\n"
           "};\n");
}

}  // namespace

void EmitHeader(const FileModel& file, google::protobuf::io::Printer* p) {
  Vars vars = {{"proto", file.proto_path}, {"guard", file.header_guard}};
  p->Print(vars,
           "// Generated by protoc-gen-zenrpc. DO NOT EDIT.\n"
           "// source: $proto$\n"
           "#ifndef $guard$\n"
           "#define $guard$\n"
           "\n");
  if (file.services.empty()) {
    p->Print({{"pb_header", file.pb_header}},
             "// The file declares no service.\n"
             "#include \"$pb_header$\"\n");
  } else {
    std::vector<std::string> includes = {"absl/status/status.h",
                                         "absl/status/statusor.h",
                                         "absl/strings/string_view.h",
                                         file.pb_header,
                                         "rpc/call_options.h",
                                         "rpc/channel.h",
                                         "rpc/server.h",
                                         "codegen_runtime/server_context.h"};
    std::sort(includes.begin(), includes.end());  // As clang-format does.
    p->Print(
        "#include <array>\n"
        "#include <functional>\n"
        "\n");
    for (const std::string& include : includes) {
      p->Print({{"include", include}}, "#include \"$include$\"\n");
    }
    if (!file.cpp_namespace.empty()) {
      p->Print({{"ns", file.cpp_namespace}}, "\nnamespace $ns$ {\n");
    }
    for (const ServiceModel& service : file.services) {
      p->Print("\n");
      EmitClass(service, p);
    }
    if (!file.cpp_namespace.empty()) {
      p->Print({{"ns", file.cpp_namespace}}, "\n}  // namespace $ns$\n");
    }
  }
  p->Print(vars, "\n#endif  // $guard$\n");
}

}  // namespace zen::codegen
