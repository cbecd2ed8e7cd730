#include "agent/model/api_schema.h"

#include <simdjson.h>

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/model/json_fields.h"
#include "base/status_macros.h"
#include "rpc/json_writer.h"

namespace zen {
namespace {

using Definition = ApiSchema::Definition;
using Property = ApiSchema::Property;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

absl::Status Invalid(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("api schema: ", path, ": ", what));
}

// --- Parsing: the reference's Definition.from_json and friends. ---

absl::StatusOr<std::optional<std::string>> OptionalString(
    object parent, absl::string_view key, absl::string_view path) {
  std::optional<element> value = json_fields::Field(parent, key);
  if (!value.has_value()) return std::optional<std::string>();
  ZEN_ASSIGN_OR_RETURN(
      std::string text,
      json_fields::StringValue(*value, json_fields::FieldPath(path, key)));
  return std::optional<std::string>(std::move(text));
}

absl::StatusOr<Definition> ParseDefinition(element value,
                                           absl::string_view path, int depth) {
  if (depth > ApiSchema::kMaxDepth) return Invalid(path, "nested too deeply");
  ZEN_ASSIGN_OR_RETURN(object fields, json_fields::ObjectValue(value, path));
  Definition definition;

  std::optional<element> type = json_fields::Field(fields, "type");
  if (!type.has_value()) return Invalid(path, "no type");
  if (type->type() == element_type::ARRAY) {
    // A list of types (a merged schema). Like the reference, keep only the
    // types and "optional".
    definition.type_is_list = true;
    ZEN_RETURN_IF_ERROR(json_fields::ForEachString(
        type->get_array().value_unsafe(), json_fields::FieldPath(path, "type"),
        [&](absl::string_view name, size_t) {
          definition.types.emplace_back(name);
          return absl::OkStatus();
        }));
  } else {
    ZEN_ASSIGN_OR_RETURN(
        std::string name,
        json_fields::StringValue(*type, json_fields::FieldPath(path, "type")));
    if (name == "array") {
      if (std::optional<element> items = json_fields::Field(fields, "items")) {
        ZEN_ASSIGN_OR_RETURN(
            Definition item,
            ParseDefinition(*items, json_fields::FieldPath(path, "items"),
                            depth + 1));
        definition.items.push_back(std::move(item));
      }
    } else if (name == "object") {
      // The reference's from_json fails on an object without properties.
      const std::string properties_path =
          json_fields::FieldPath(path, "properties");
      std::optional<element> properties =
          json_fields::Field(fields, "properties");
      if (!properties.has_value()) return Invalid(path, "no properties");
      ZEN_ASSIGN_OR_RETURN(object members, json_fields::ObjectValue(
                                               *properties, properties_path));
      definition.has_properties = true;
      for (auto member : members) {
        const absl::string_view key(member.key.data(), member.key.size());
        ZEN_ASSIGN_OR_RETURN(
            Definition child,
            ParseDefinition(member.value,
                            json_fields::FieldPath(properties_path, key),
                            depth + 1));
        // A repeated key keeps its first position and its last value, as a
        // Ruby Hash built from the parsed JSON does.
        auto same = std::find_if(
            definition.properties.begin(), definition.properties.end(),
            [&](const Property& p) { return p.name == key; });
        if (same != definition.properties.end()) {
          same->schema = std::move(child);
        } else {
          definition.properties.push_back({std::string(key), std::move(child)});
        }
      }
    } else if (name != "null" && name != "boolean" && name != "string" &&
               name != "number") {
      return Invalid(path, absl::StrCat("unknown type \"", name, "\""));
    }
    definition.types.push_back(std::move(name));
  }

  if (std::optional<element> optional =
          json_fields::Field(fields, "optional")) {
    if (optional->type() != element_type::BOOL) {
      return Invalid(path, "optional is not a boolean");
    }
    definition.optional = optional->get_bool().value_unsafe();
  }
  return definition;
}

absl::StatusOr<std::vector<ApiSchema::Auth>> ParseAuth(object schema) {
  std::vector<ApiSchema::Auth> schemes;
  ZEN_ASSIGN_OR_RETURN(auto list, json_fields::ArrayField(schema, "auth", ""));
  if (!list.has_value()) return schemes;
  size_t index = 0;
  for (element entry : *list) {
    const std::string path = json_fields::IndexPath("auth", index++);
    ZEN_ASSIGN_OR_RETURN(object fields, json_fields::ObjectValue(entry, path));
    ZEN_ASSIGN_OR_RETURN(std::string type,
                         json_fields::StringField(fields, "type", "", path));
    ApiSchema::Auth auth;
    if (type == "http") {
      ZEN_ASSIGN_OR_RETURN(std::optional<std::string> scheme,
                           OptionalString(fields, "scheme", path));
      // The reference downcases the scheme when writing; without one it
      // fails.
      if (!scheme.has_value()) return Invalid(path, "http without scheme");
      auth.scheme = std::move(*scheme);
    } else if (type == "apiKey") {
      auth.is_api_key = true;
      ZEN_ASSIGN_OR_RETURN(auth.in, OptionalString(fields, "in", path));
      ZEN_ASSIGN_OR_RETURN(auth.name, OptionalString(fields, "name", path));
    } else {
      return Invalid(path, absl::StrCat("unknown type \"", type, "\""));
    }
    schemes.push_back(std::move(auth));
  }
  return schemes;
}

size_t CountDefinitions(const Definition& d) {
  size_t count = 1;
  for (const Property& p : d.properties) count += CountDefinitions(p.schema);
  for (const Definition& item : d.items) count += CountDefinitions(item);
  return count;
}

// --- Merging: the reference's Definition#merge, case by case. ---

bool IsType(const Definition& d, absl::string_view name) {
  return !d.type_is_list && d.types.size() == 1 && d.types[0] == name;
}

bool SameDefinition(const Definition& a, const Definition& b);

// Ruby Hash equality: the same keys with equal values, in any order.
bool SameProperties(const std::vector<Property>& a,
                    const std::vector<Property>& b) {
  if (a.size() != b.size()) return false;
  absl::flat_hash_map<absl::string_view, const Definition*> by_name;
  for (const Property& p : a) by_name[p.name] = &p.schema;
  for (const Property& p : b) {
    auto it = by_name.find(p.name);
    if (it == by_name.end() || !SameDefinition(*it->second, p.schema)) {
      return false;
    }
  }
  return true;
}

bool SameDefinition(const Definition& a, const Definition& b) {
  return a.type_is_list == b.type_is_list && a.types == b.types &&
         a.optional == b.optional && a.has_properties == b.has_properties &&
         SameProperties(a.properties, b.properties) &&
         a.items.size() == b.items.size() &&
         (a.items.empty() || SameDefinition(a.items[0], b.items[0]));
}

// Ruby's `a.merge(b)` of the two definitions' hashes: every key `b` has
// replaces `a`'s. (Every definition has a type.)
Definition HashMerge(const Definition& a, const Definition& b) {
  Definition merged = a;
  merged.types = b.types;
  merged.type_is_list = b.type_is_list;
  if (b.optional.has_value()) merged.optional = b.optional;
  if (b.has_properties) {
    merged.has_properties = true;
    merged.properties = b.properties;
  }
  if (!b.items.empty()) merged.items = b.items;
  return merged;
}

Definition NullDefinition() {
  Definition null;
  null.types.push_back("null");
  return null;
}

Definition MergeDefinitions(const Definition& a, const Definition& b) {
  // Merging with itself: a copy.
  if (SameDefinition(a, b)) return a;

  // Two objects, at least one with properties: merge the properties one by
  // one, a property missing on one side counting as null (so optional).
  if (IsType(a, "object") && IsType(b, "object") &&
      (a.has_properties || b.has_properties)) {
    Definition merged = HashMerge(a, b);
    absl::flat_hash_map<absl::string_view, const Definition*> right;
    for (const Property& p : b.properties) right[p.name] = &p.schema;
    absl::flat_hash_map<absl::string_view, const Definition*> left;
    for (const Property& p : a.properties) left[p.name] = &p.schema;
    const Definition null = NullDefinition();
    std::vector<Property> properties;
    properties.reserve(a.properties.size() + b.properties.size());
    for (const Property& p : a.properties) {
      auto it = right.find(p.name);
      properties.push_back(
          {p.name,
           MergeDefinitions(p.schema, it == right.end() ? null : *it->second)});
    }
    for (const Property& p : b.properties) {
      if (left.contains(p.name)) continue;
      properties.push_back({p.name, MergeDefinitions(null, p.schema)});
    }
    merged.has_properties = true;
    merged.properties = std::move(properties);
    return merged;
  }

  // Two arrays, at least one with items: merge the items.
  if (IsType(a, "array") && IsType(b, "array") &&
      (!a.items.empty() || !b.items.empty())) {
    Definition merged = HashMerge(a, b);
    if (!a.items.empty() && !b.items.empty()) {
      merged.items = {MergeDefinitions(a.items[0], b.items[0])};
    } else {
      merged.items = a.items.empty() ? b.items : a.items;
    }
    return merged;
  }

  // The same type (a name, or an identical list).
  if (a.type_is_list == b.type_is_list && a.types == b.types) {
    return HashMerge(a, b);
  }

  // null with anything: that thing, optional.
  if (IsType(a, "null")) {
    Definition merged = b;
    merged.optional = true;
    return merged;
  }
  if (IsType(b, "null")) {
    Definition merged = a;
    merged.optional = true;
    return merged;
  }

  // Different types: the sorted union of both, the rest as a hash merge.
  std::vector<std::string> types = a.types;
  types.insert(types.end(), b.types.begin(), b.types.end());
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
  Definition merged = HashMerge(a, b);
  merged.types = std::move(types);
  merged.type_is_list = true;
  return merged;
}

// EMPTY_SCHEMA (nullopt) merged with a definition gives the definition; a
// definition merged with EMPTY_SCHEMA stays as it is.
void MergeInto(std::optional<Definition>* into,
               const std::optional<Definition>& sample) {
  if (!sample.has_value()) return;
  if (!into->has_value()) {
    *into = sample;
    return;
  }
  *into = MergeDefinitions(**into, *sample);
}

// --- Writing: the reference's as_json. ---

void AppendDefinition(std::string* out, const Definition& d) {
  out->append("{\"type\":");
  if (d.type_is_list) {
    out->push_back('[');
    for (size_t i = 0; i < d.types.size(); ++i) {
      if (i > 0) out->push_back(',');
      rpc::AppendJsonString(out, d.types[i]);
    }
    out->push_back(']');
  } else {
    rpc::AppendJsonString(out, d.types.empty() ? "" : d.types[0]);
  }
  if (d.has_properties) {
    out->append(",\"properties\":{");
    for (size_t i = 0; i < d.properties.size(); ++i) {
      if (i > 0) out->push_back(',');
      rpc::AppendJsonString(out, d.properties[i].name);
      out->push_back(':');
      AppendDefinition(out, d.properties[i].schema);
    }
    out->push_back('}');
  }
  if (!d.items.empty()) {
    out->append(",\"items\":");
    AppendDefinition(out, d.items[0]);
  }
  if (d.optional.has_value()) {
    out->append(*d.optional ? ",\"optional\":true" : ",\"optional\":false");
  }
  out->push_back('}');
}

}  // namespace

bool ApiSchema::Auth::operator==(const Auth& other) const {
  return is_api_key == other.is_api_key && scheme == other.scheme &&
         in == other.in && name == other.name;
}

absl::StatusOr<ApiSchema> ApiSchema::FromJson(absl::string_view json) {
  simdjson::dom::parser parser;
  ZEN_ASSIGN_OR_RETURN(
      element root,
      json_fields::ParseDocument(&parser, json, "api schema", kMaxJsonBytes));
  ZEN_ASSIGN_OR_RETURN(object fields, json_fields::ObjectValue(root, "schema"));
  ApiSchema schema;
  schema.sampled_ = true;

  if (std::optional<element> body = json_fields::Field(fields, "body")) {
    ZEN_ASSIGN_OR_RETURN(object body_fields,
                         json_fields::ObjectValue(*body, "body"));
    ZEN_ASSIGN_OR_RETURN(schema.content_type_,
                         OptionalString(body_fields, "type", "body"));
    // The reference leaves a body without "schema" unusable; here it is
    // taken as an empty one.
    if (std::optional<element> definition =
            json_fields::Field(body_fields, "schema")) {
      ZEN_ASSIGN_OR_RETURN(schema.body_,
                           ParseDefinition(*definition, "body.schema", 1));
    }
  }
  if (std::optional<element> query = json_fields::Field(fields, "query")) {
    ZEN_ASSIGN_OR_RETURN(schema.query_, ParseDefinition(*query, "query", 1));
  }
  ZEN_ASSIGN_OR_RETURN(schema.auth_, ParseAuth(fields));
  schema.size_ = 1 + schema.auth_.size();
  if (schema.body_.has_value()) schema.size_ += CountDefinitions(*schema.body_);
  if (schema.query_.has_value()) {
    schema.size_ += CountDefinitions(*schema.query_);
  }
  return schema;
}

void ApiSchema::Merge(const ApiSchema& sample) {
  if (!sample.sampled_) return;  // merging nil: unchanged
  if (!sampled_) {
    *this = sample;  // EMPTY_SCHEMA | sample
    return;
  }
  size_ += sample.size_;  // a merge holds no more than both did
  content_type_ = sample.content_type_;
  MergeInto(&body_, sample.body_);
  MergeInto(&query_, sample.query_);
  // (a + b).uniq: a's schemes, then b's new ones, each once.
  for (const Auth& auth : sample.auth_) {
    if (std::find(auth_.begin(), auth_.end(), auth) == auth_.end()) {
      auth_.push_back(auth);
    }
  }
}

std::string ApiSchema::ToJson() const {
  if (!sampled_) return "";
  std::string out = "{";
  bool first = true;
  auto key = [&](absl::string_view name) {
    if (!first) out.push_back(',');
    first = false;
    rpc::AppendJsonString(&out, name);
    out.push_back(':');
  };
  if (content_type_.has_value() || body_.has_value()) {
    key("body");
    out.push_back('{');
    if (content_type_.has_value()) {
      out.append("\"type\":");
      rpc::AppendJsonString(&out, *content_type_);
    }
    if (body_.has_value()) {
      if (content_type_.has_value()) out.push_back(',');
      out.append("\"schema\":");
      AppendDefinition(&out, *body_);
    }
    out.push_back('}');
  }
  if (query_.has_value()) {
    key("query");
    AppendDefinition(&out, *query_);
  }
  if (!auth_.empty()) {
    key("auth");
    out.push_back('[');
    for (size_t i = 0; i < auth_.size(); ++i) {
      if (i > 0) out.push_back(',');
      const Auth& auth = auth_[i];
      if (!auth.is_api_key) {
        // Ruby's String#downcase folds all of Unicode; schemes are ASCII
        // tokens (RFC 7235), so folding ASCII is the same.
        out.append("{\"type\":\"http\",\"scheme\":");
        rpc::AppendJsonString(&out, absl::AsciiStrToLower(auth.scheme));
      } else {
        out.append("{\"type\":\"apiKey\"");
        if (auth.in.has_value()) {
          out.append(",\"in\":");
          rpc::AppendJsonString(&out, *auth.in);
        }
        if (auth.name.has_value()) {
          out.append(",\"name\":");
          rpc::AppendJsonString(&out, *auth.name);
        }
      }
      out.push_back('}');
    }
    out.push_back(']');
  }
  out.push_back('}');
  return out;
}

}  // namespace zen
