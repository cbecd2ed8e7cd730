#include "codegen_runtime/json_value.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "codegen_runtime/json_value_internal.h"
#include "codegen_runtime/message_json.h"
#include "codegen_runtime/padded_json.h"
#include "codegen_runtime/reflection_json.h"
#include "google/protobuf/struct.pb.h"

namespace zen::codegen_runtime::internal {
namespace {

namespace pb = google::protobuf;
namespace od = simdjson::ondemand;

absl::Status ValueError(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("JSON value: ", what));
}

absl::Status Append(const pb::Value& value, int depth, std::string* out) {
  if (depth > kMaxMessageDepth) return ValueError("nested too deeply");
  switch (value.kind_case()) {
    case pb::Value::KIND_NOT_SET:
    case pb::Value::kNullValue:
      out->append("null");
      return absl::OkStatus();
    case pb::Value::kBoolValue:
      out->append(value.bool_value() ? "true" : "false");
      return absl::OkStatus();
    case pb::Value::kNumberValue:
      if (!std::isfinite(value.number_value())) {
        return ValueError("a number must be finite");
      }
      AppendFiniteDouble(value.number_value(), out);
      return absl::OkStatus();
    case pb::Value::kStringValue:
      return AppendJsonString(value.string_value(), out);
    case pb::Value::kListValue: {
      out->push_back('[');
      bool first = true;
      for (const pb::Value& element : value.list_value().values()) {
        if (!first) out->push_back(',');
        first = false;
        ZEN_RETURN_IF_ERROR(Append(element, depth + 1, out));
      }
      out->push_back(']');
      return absl::OkStatus();
    }
    case pb::Value::kStructValue: {
      const auto& fields = value.struct_value().fields();
      std::vector<const std::string*> keys;
      keys.reserve(fields.size());
      for (const auto& member : fields) keys.push_back(&member.first);
      std::sort(
          keys.begin(), keys.end(),
          [](const std::string* a, const std::string* b) { return *a < *b; });
      out->push_back('{');
      bool first = true;
      for (const std::string* key : keys) {
        if (!first) out->push_back(',');
        first = false;
        ZEN_RETURN_IF_ERROR(AppendJsonString(*key, out));
        out->push_back(':');
        ZEN_RETURN_IF_ERROR(Append(fields.at(*key), depth + 1, out));
      }
      out->push_back('}');
      return absl::OkStatus();
    }
  }
  return ValueError("unknown kind");
}

absl::Status Parse(od::value& json, int depth, pb::Value* value) {
  if (depth > kMaxMessageDepth) return ValueError("nested too deeply");
  od::json_type type;
  if (auto error = json.type().get(type)) return JsonError(error, "value");
  switch (type) {
    case od::json_type::null: {
      bool is_null = false;
      if (json.is_null().get(is_null) != simdjson::SUCCESS || !is_null) {
        return ValueError("invalid null");
      }
      value->set_null_value(pb::NULL_VALUE);
      return absl::OkStatus();
    }
    case od::json_type::boolean: {
      bool b = false;
      if (auto error = json.get_bool().get(b)) return JsonError(error, "bool");
      value->set_bool_value(b);
      return absl::OkStatus();
    }
    case od::json_type::number: {
      double d = 0;
      if (auto error = json.get_double().get(d)) {
        return JsonError(error, "number");
      }
      value->set_number_value(d);
      return absl::OkStatus();
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto error = json.get_string().get(s)) {
        return JsonError(error, "string");
      }
      value->set_string_value(std::string(s));
      return absl::OkStatus();
    }
    case od::json_type::array: {
      od::array array;
      if (auto error = json.get_array().get(array)) {
        return JsonError(error, "array");
      }
      pb::ListValue* list = value->mutable_list_value();
      for (auto element : array) {
        od::value v;
        if (auto error = std::move(element).get(v)) {
          return JsonError(error, "array");
        }
        ZEN_RETURN_IF_ERROR(Parse(v, depth + 1, list->add_values()));
      }
      return absl::OkStatus();
    }
    case od::json_type::object: {
      od::object object;
      if (auto error = json.get_object().get(object)) {
        return JsonError(error, "object");
      }
      auto* fields = value->mutable_struct_value()->mutable_fields();
      return ForEachMember(
          object, "object",
          [&](absl::string_view key, od::value& member) -> absl::Status {
            pb::Value& slot = (*fields)[std::string(key)];
            slot.Clear();  // A repeated key: the last one wins.
            return Parse(member, depth + 1, &slot);
          });
    }
  }
  return ValueError("unknown JSON type");
}

// Generated code links libprotobuf's own Value; a dynamic message of that
// type (from another pool) is not one and is refused.
const pb::Value* AsValue(const pb::Message& message) {
  return pb::DynamicCastToGenerated<pb::Value>(&message);
}

}  // namespace

bool IsJsonValueType(const google::protobuf::Descriptor* type) {
  return type == pb::Value::descriptor();
}

absl::Status AppendJsonValue(const google::protobuf::Message& value,
                             std::string* out) {
  const pb::Value* v = AsValue(value);
  if (v == nullptr) return ValueError("not a google.protobuf.Value");
  return Append(*v, 0, out);
}

absl::Status ParseJsonValue(simdjson::ondemand::value& json,
                            google::protobuf::Message* value, int depth) {
  pb::Value* v = pb::DynamicCastToGenerated<pb::Value>(value);
  if (v == nullptr) return ValueError("not a google.protobuf.Value");
  v->Clear();
  return Parse(json, depth, v);
}

}  // namespace zen::codegen_runtime::internal

namespace zen::codegen_runtime {

absl::Status JsonToValue(absl::string_view json,
                         google::protobuf::Value* value) {
  ZEN_RETURN_IF_ERROR(ValidateJsonValue(json, /*padded=*/false));
  // In an array, so that a bare scalar is a value to on-demand too.
  PaddedJsonString wrapped;
  absl::StrAppend(wrapped.mutable_text(), "[", json, "]");
  wrapped.Pad();
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::array array;
  if (auto error = parser
                       .iterate(wrapped.view().data(), wrapped.view().size(),
                                wrapped.view().size() + kJsonPadding)
                       .get(doc)) {
    return internal::JsonError(error, "value");
  }
  if (auto error = doc.get_array().get(array)) {
    return internal::JsonError(error, "value");
  }
  for (auto element : array) {
    simdjson::ondemand::value root;
    if (auto error = std::move(element).get(root)) {
      return internal::JsonError(error, "value");
    }
    return internal::ParseJsonValue(root, value, 0);
  }
  return absl::InvalidArgumentError("JSON value: empty");
}

absl::Status ValueToJson(const google::protobuf::Value& value,
                         std::string* out) {
  return internal::AppendJsonValue(value, out);
}

void PrepareJsonForFork() {
  (void)simdjson::get_active_implementation()->name();
}

}  // namespace zen::codegen_runtime
