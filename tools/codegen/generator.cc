#include "tools/codegen/generator.h"

#include <algorithm>
#include <memory>
#include <set>
#include <vector>

#include "google/protobuf/io/printer.h"
#include "google/protobuf/io/zero_copy_stream.h"
#include "tools/codegen/access_model.h"
#include "tools/codegen/emit.h"
#include "tools/codegen/layout.h"
#include "tools/codegen/names.h"
#include "tools/codegen/options.h"

namespace zen::codegen {
namespace {

namespace pb = google::protobuf;

// Names of members of the generated class that an rpc must not take.
constexpr std::string_view kReservedNames[] = {"Service", "Stub", "RegisterOn",
                                               "Callback"};

template <typename Descriptor>
std::vector<std::string> CommentOf(const Descriptor* descriptor) {
  pb::SourceLocation location;
  if (!descriptor->GetSourceLocation(&location)) return {};
  return CommentLines(location.leading_comments.empty()
                          ? location.trailing_comments
                          : location.leading_comments);
}

// Checks and collects the generation errors of one file. Each message starts
// with the file's name, as protoc prints plugin errors without it.
class Checker {
 public:
  Checker(const pb::FileDescriptor* file, std::string* error)
      : file_(file), error_(error) {}

  bool Fail(const std::string& what) {
    *error_ = file_->name() + ": " + what;
    return false;
  }

 private:
  const pb::FileDescriptor* file_;
  std::string* error_;
};

// The raw_json fields of `type`, checked to be singular strings.
bool RawJsonFields(const pb::Descriptor* type, OptionReader* options,
                   Checker* check, std::vector<std::string>* names) {
  for (int i = 0; i < type->field_count(); ++i) {
    const pb::FieldDescriptor* f = type->field(i);
    if (!options->IsRawJson(f)) continue;
    if (f->is_repeated() || f->type() != pb::FieldDescriptor::TYPE_STRING) {
      return check->Fail("field " + f->full_name() +
                         ": (zen.rpc.raw_json) needs a singular string field");
    }
    names->push_back(f->name());
  }
  return true;
}

// Fails if a message type nested (at any depth) in `top` has raw_json
// fields: the wire splices raw JSON only at the top level. That includes
// `top` itself when it is recursive.
bool CheckNoNestedRawJson(const pb::Descriptor* top,
                          const std::string& method_name, OptionReader* options,
                          Checker* check) {
  std::vector<const pb::Descriptor*> nested;
  std::set<const pb::Descriptor*> seen;
  auto visit_fields_of = [&](const pb::Descriptor* type) {
    for (int j = 0; j < type->field_count(); ++j) {
      const pb::FieldDescriptor* f = type->field(j);
      if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) continue;
      if (seen.insert(f->message_type()).second) {
        nested.push_back(f->message_type());
      }
    }
  };
  visit_fields_of(top);
  for (size_t i = 0; i < nested.size(); ++i) {
    const pb::Descriptor* type = nested[i];
    for (int j = 0; j < type->field_count(); ++j) {
      const pb::FieldDescriptor* f = type->field(j);
      if (options->IsRawJson(f)) {
        return check->Fail(
            "field " + f->full_name() +
            ": (zen.rpc.raw_json) is allowed only on top-level fields of a "
            "request or response message, but " +
            type->full_name() + " is nested in " + top->full_name() +
            " (used by method " + method_name + ")");
      }
    }
    visit_fields_of(type);
  }
  return true;
}

// Every message type declared in `file`, nested ones included.
void AllMessages(const pb::Descriptor* type,
                 std::vector<const pb::Descriptor*>* out) {
  out->push_back(type);
  for (int i = 0; i < type->nested_type_count(); ++i) {
    AllMessages(type->nested_type(i), out);
  }
}

bool BuildMethod(const pb::MethodDescriptor* method, OptionReader* options,
                 Checker* check, MethodModel* model) {
  const std::string where =
      "method " + method->service()->name() + "." + method->name();
  if (method->client_streaming() || method->server_streaming()) {
    return check->Fail(where + ": streaming is not supported");
  }
  model->name = method->name();
  if (IsCppKeyword(model->name)) {
    return check->Fail(where + ": a C++ keyword cannot name a method");
  }
  for (std::string_view reserved : kReservedNames) {
    if (model->name == reserved) {
      return check->Fail(where + ": the name " + model->name +
                         " is taken by the generated class");
    }
  }
  const MethodOptions opts = options->ForMethod(method);
  model->wire_name =
      opts.wire_name.empty() ? SnakeCase(method->name()) : opts.wire_name;
  model->request_type = CppTypeName(method->input_type()->full_name());
  model->response_type = CppTypeName(method->output_type()->full_name());
  model->comment = CommentOf(method);
  model->null_when_empty = opts.null_when_empty;

  const pb::Descriptor* request = method->input_type();
  const pb::Descriptor* response = method->output_type();
  std::set<std::string> positional;
  for (const std::string& name : opts.positional_args) {
    if (request->FindFieldByName(name) == nullptr) {
      return check->Fail(where + ": positional argument '" + name +
                         "' is not a field of " + request->full_name());
    }
    if (!positional.insert(name).second) {
      return check->Fail(where + ": positional argument '" + name +
                         "' is listed twice");
    }
    model->positional_args.push_back(name);
  }
  if (!opts.result_field.empty()) {
    if (response->FindFieldByName(opts.result_field) == nullptr) {
      return check->Fail(where + ": result field '" + opts.result_field +
                         "' is not a field of " + response->full_name());
    }
    model->result_field = opts.result_field;
  }
  const std::string qualified =
      method->service()->name() + "." + method->name();
  return RawJsonFields(request, options, check, &model->request_raw_json) &&
         RawJsonFields(response, options, check, &model->response_raw_json) &&
         CheckNoNestedRawJson(request, qualified, options, check) &&
         CheckNoNestedRawJson(response, qualified, options, check);
}

bool BuildService(const pb::ServiceDescriptor* service, OptionReader* options,
                  Checker* check, ServiceModel* model) {
  model->name = service->name();
  model->full_name = service->full_name();
  model->comment = CommentOf(service);
  if (IsCppKeyword(model->name)) {
    return check->Fail("service " + model->name +
                       ": a C++ keyword cannot name a service");
  }
  std::set<std::string> names;
  std::set<std::string> wire_names;
  for (int i = 0; i < service->method_count(); ++i) {
    names.insert(service->method(i)->name());
  }
  for (int i = 0; i < service->method_count(); ++i) {
    MethodModel method;
    if (!BuildMethod(service->method(i), options, check, &method)) {
      return false;
    }
    if (names.count(method.name + "Async") != 0) {
      return check->Fail("method " + service->name() + "." + method.name +
                         "Async: clashes with the asynchronous form of " +
                         method.name);
    }
    if (!wire_names.insert(method.wire_name).second) {
      return check->Fail("method " + service->name() + "." + method.name +
                         ": wire name '" + method.wire_name +
                         "' is already used by another method of the service");
    }
    model->methods.push_back(std::move(method));
  }
  return true;
}

// raw_json is meaningful only on top-level fields of the requests and
// responses of this file's methods; anywhere else in a file with services it
// would be silently ignored, so it is an error.
bool CheckRawJsonPlacement(const pb::FileDescriptor* file,
                           OptionReader* options, Checker* check) {
  if (file->service_count() == 0) return true;
  std::set<const pb::Descriptor*> tops;
  for (int i = 0; i < file->service_count(); ++i) {
    const pb::ServiceDescriptor* service = file->service(i);
    for (int j = 0; j < service->method_count(); ++j) {
      tops.insert(service->method(j)->input_type());
      tops.insert(service->method(j)->output_type());
    }
  }
  std::vector<const pb::Descriptor*> messages;
  for (int i = 0; i < file->message_type_count(); ++i) {
    AllMessages(file->message_type(i), &messages);
  }
  for (const pb::Descriptor* type : messages) {
    if (tops.count(type) != 0) continue;
    for (int i = 0; i < type->field_count(); ++i) {
      if (options->IsRawJson(type->field(i))) {
        return check->Fail(
            "field " + type->field(i)->full_name() +
            ": (zen.rpc.raw_json) is allowed only on top-level fields of a "
            "request or response message, and " +
            type->full_name() +
            " is not the request or response of any method in this file");
      }
    }
  }
  return true;
}

}  // namespace

bool BuildFileModel(const google::protobuf::FileDescriptor* file,
                    FileModel* model, std::string* error) {
  Checker check(file, error);
  OptionReader options(file->pool());
  const std::string stem = StripProto(file->name());
  model->proto_path = file->name();
  model->pb_header = stem + ".pb.h";
  model->header = stem + ".zenrpc.h";
  model->header_guard = HeaderGuard(model->header);
  model->cpp_namespace = CppNamespace(file->package());
  for (int i = 0; i < file->service_count(); ++i) {
    ServiceModel service;
    if (!BuildService(file->service(i), &options, &check, &service)) {
      return false;
    }
    model->services.push_back(std::move(service));
  }
  AddMessageAccess(file, &model->messages);
  return CheckRawJsonPlacement(file, &options, &check);
}

bool ZenRpcGenerator::Generate(
    const google::protobuf::FileDescriptor* file, const std::string& parameter,
    google::protobuf::compiler::GeneratorContext* context,
    std::string* error) const {
  if (!parameter.empty()) {
    *error = file->name() + ": protoc-gen-zenrpc takes no parameter (got \"" +
             parameter + "\")";
    return false;
  }
  FileModel model;
  if (!BuildFileModel(file, &model, error)) return false;

  const std::string stem = StripProto(file->name());
  {
    std::unique_ptr<pb::io::ZeroCopyOutputStream> out(
        context->Open(stem + ".zenrpc.h"));
    pb::io::Printer printer(out.get(), '$');
    EmitHeader(model, &printer);
    if (printer.failed()) {
      *error = file->name() + ": cannot write " + stem + ".zenrpc.h";
      return false;
    }
  }
  {
    std::unique_ptr<pb::io::ZeroCopyOutputStream> out(
        context->Open(stem + ".zenrpc.cc"));
    pb::io::Printer printer(out.get(), '$');
    EmitSource(model, &printer);
    if (printer.failed()) {
      *error = file->name() + ": cannot write " + stem + ".zenrpc.cc";
      return false;
    }
  }
  return true;
}

}  // namespace zen::codegen
