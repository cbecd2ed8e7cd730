#include "tools/agent_cli/describe.h"

#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/zen/rpc/options.pb.h"

namespace zen::agent_cli {
namespace {

namespace pb = ::google::protobuf;

std::string JsonKey(const pb::FieldDescriptor* field) {
  return field->has_json_name() ? field->json_name() : field->name();
}

bool IsWellKnown(const pb::Descriptor* type) {
  return absl::StartsWith(type->file()->name(), "google/protobuf/");
}

std::string TypeName(const pb::FieldDescriptor* field) {
  switch (field->type()) {
    case pb::FieldDescriptor::TYPE_MESSAGE:
    case pb::FieldDescriptor::TYPE_GROUP:
      return field->message_type()->full_name();
    case pb::FieldDescriptor::TYPE_ENUM:
      return field->enum_type()->full_name();
    default:
      return field->type_name();
  }
}

std::string FieldLine(const pb::FieldDescriptor* field, size_t key_width) {
  std::string key = JsonKey(field);
  key.resize(std::max(key.size(), key_width), ' ');
  std::string type;
  if (field->is_map()) {
    const pb::Descriptor* entry = field->message_type();
    type = absl::StrCat("map<", TypeName(entry->map_key()), ", ",
                        TypeName(entry->map_value()), ">");
  } else {
    type = TypeName(field);
    if (field->is_repeated()) {
      type = absl::StrCat("repeated ", type);
    } else if (field->has_optional_keyword()) {
      type = absl::StrCat("optional ", type);
    } else if (field->real_containing_oneof() != nullptr) {
      type = absl::StrCat(type, " (oneof ",
                          field->real_containing_oneof()->name(), ")");
    }
  }
  if (field->options().GetExtension(::zen::rpc::raw_json)) {
    absl::StrAppend(&type, ", raw JSON");
  }
  return absl::StrCat("  ", key, "  ", type, "\n");
}

// Message types reached from `type` (itself first, then its fields' in
// field order, depth first), each once; map entries are skipped (the map's
// line names both types) and well-known types are not expanded.
void Reach(const pb::Descriptor* type,
           absl::flat_hash_set<const pb::Descriptor*>* seen,
           std::vector<const pb::Descriptor*>* order) {
  if (IsWellKnown(type) || !seen->insert(type).second) return;
  if (!type->options().map_entry()) order->push_back(type);
  for (int i = 0; i < type->field_count(); ++i) {
    const pb::Descriptor* field_type = type->field(i)->message_type();
    if (field_type != nullptr) Reach(field_type, seen, order);
  }
}

void ReachDeclared(const pb::Descriptor* type,
                   absl::flat_hash_set<const pb::Descriptor*>* seen,
                   std::vector<const pb::Descriptor*>* order) {
  Reach(type, seen, order);
  for (int i = 0; i < type->nested_type_count(); ++i) {
    ReachDeclared(type->nested_type(i), seen, order);
  }
}

std::string ArgsLine(const pb::MethodDescriptor* method) {
  const pb::MethodOptions& options = method->options();
  const int count = options.ExtensionSize(::zen::rpc::positional_args);
  if (count == 0) return "kwargs only";
  std::vector<std::string> keys;
  for (int i = 0; i < count; ++i) {
    const std::string& name =
        options.GetExtension(::zen::rpc::positional_args, i);
    const pb::FieldDescriptor* field =
        method->input_type()->FindFieldByName(name);
    keys.push_back(field != nullptr ? JsonKey(field) : name);
  }
  return absl::StrCat("positional [", absl::StrJoin(keys, ", "), "] or kwargs");
}

std::string ResultLine(const pb::MethodDescriptor* method) {
  const pb::MethodOptions& options = method->options();
  std::string result = "the response object";
  const std::string& result_field =
      options.GetExtension(::zen::rpc::result_field);
  if (!result_field.empty()) {
    const pb::FieldDescriptor* field =
        method->output_type()->FindFieldByName(result_field);
    result = absl::StrCat("the bare value of ",
                          field != nullptr ? JsonKey(field) : result_field);
  }
  if (options.GetExtension(::zen::rpc::null_when_empty)) {
    absl::StrAppend(&result, "; null when empty");
  }
  return result;
}

}  // namespace

std::string DescribeFile(const pb::FileDescriptor* file, WireNameOf wire_name) {
  std::string out;
  absl::flat_hash_set<const pb::Descriptor*> seen;
  std::vector<const pb::Descriptor*> order;
  for (int s = 0; s < file->service_count(); ++s) {
    const pb::ServiceDescriptor* service = file->service(s);
    absl::StrAppend(&out, "service ", service->full_name(), " (", file->name(),
                    ")\n");
    for (int m = 0; m < service->method_count(); ++m) {
      const pb::MethodDescriptor* method = service->method(m);
      std::string name(wire_name(method));
      if (name.empty()) {
        name = method->options().GetExtension(::zen::rpc::wire_name);
      }
      if (name.empty()) name = "?";
      absl::StrAppend(&out, "  ", name, ": ", method->name(), "(",
                      method->input_type()->full_name(), ") returns (",
                      method->output_type()->full_name(), ")\n",
                      "    args: ", ArgsLine(method), "\n",
                      "    result: ", ResultLine(method), "\n");
      Reach(method->input_type(), &seen, &order);
      Reach(method->output_type(), &seen, &order);
    }
    out.push_back('\n');
  }
  for (int i = 0; i < file->message_type_count(); ++i) {
    ReachDeclared(file->message_type(i), &seen, &order);
  }
  for (const pb::Descriptor* type : order) {
    absl::StrAppend(&out, "message ", type->full_name(), "\n");
    size_t key_width = 0;
    for (int i = 0; i < type->field_count(); ++i) {
      key_width = std::max(key_width, JsonKey(type->field(i)).size());
    }
    if (type->field_count() == 0) out.append("  (no fields)\n");
    for (int i = 0; i < type->field_count(); ++i) {
      out.append(FieldLine(type->field(i), key_width));
    }
  }
  return out;
}

}  // namespace zen::agent_cli
