// The shape of the requests a route received, as the reference reports it
// in a heartbeat's `routes[].apispec`: the body's content type and schema,
// the query's schema and the authentication schemes seen. Workers send one
// sample per request with track_route (the reference's
// Request::Schema#as_json); the parent merges a route's samples as the
// reference's Request::Schema#merge does (lib/aikido/zen/request/schema.rb,
// schema/definition.rb, schema/auth_schemas.rb, schema/empty_schema.rb).
//
// A value type: copyable, no shared state, not thread-safe to mutate from
// two threads at once (like std::string).
#ifndef ZEN_AGENT_MODEL_API_SCHEMA_H_
#define ZEN_AGENT_MODEL_API_SCHEMA_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace zen {

class ApiSchema {
 public:
  // Limits on a sample from a worker, so merging stays cheap under the
  // collector's lock (the reference's own sampler stops at 20 levels and 20
  // properties per level, so real samples are far below both).
  static constexpr size_t kMaxJsonBytes = 64 * 1024;
  static constexpr int kMaxDepth = 64;  // nested definitions

  // One node of the JSON-Schema-like tree (the reference's
  // Schema::Definition). Exposed for the implementation; build values with
  // FromJson.
  struct Definition;
  struct Property;
  struct Definition {
    // One type name ("null", "boolean", "string", "number", "array",
    // "object"), or, after merging different types, a sorted list.
    std::vector<std::string> types;
    bool type_is_list = false;
    std::optional<bool> optional;
    // Objects: the properties in first-seen order. `has_properties` says the
    // key is present (the merge rules test presence, not emptiness).
    bool has_properties = false;
    std::vector<Property> properties;
    // Arrays: the schema of the items (zero or one element).
    std::vector<Definition> items;
  };
  struct Property {
    std::string name;
    Definition schema;
  };
  // One authentication scheme: {"type":"http","scheme":...} or
  // {"type":"apiKey","in":...,"name":...} ("in" and "name" may be absent).
  struct Auth {
    bool is_api_key = false;
    std::string scheme;                   // http
    std::optional<std::string> in, name;  // apiKey
    bool operator==(const Auth& other) const;
  };

  // The reference's EMPTY_SCHEMA: no sample yet. Merging a sample into it
  // gives the sample; ToJson gives "" (the route's `apispec` is left out).
  ApiSchema() = default;

  // Parses one sample as a worker sends it (the reference's
  // Request::Schema.from_json): an object with optional "body"
  // ({"type": content type, "schema": definition}), "query" (definition)
  // and "auth" (array of schemes). Returns kInvalidArgument for what the
  // reference's from_json rejects (unknown "type", a scheme of unknown type)
  // or cannot represent (an object without "properties", a non-string
  // content type), for malformed JSON and for definitions nested deeper than
  // kMaxDepth; kResourceExhausted for text longer than kMaxJsonBytes. `{}`
  // is a valid sample whose parts are all empty.
  static absl::StatusOr<ApiSchema> FromJson(absl::string_view json);

  // Merges `sample` into this schema as the reference's `schema |= sample`
  // does, including its quirks: the content type becomes the sample's, even
  // when the sample has none.
  void Merge(const ApiSchema& sample);

  // The reference's Request::Schema#as_json as JSON text: {"body":...,
  // "query":..., "auth":[...]} with empty parts left out (so a merged
  // schema whose parts are all empty is "{}"); "" while no sample was ever
  // merged. Object keys are written in a fixed order.
  std::string ToJson() const;

  // No sample was ever merged.
  bool empty() const { return !sampled_; }

  // What this schema holds, in parts (definitions, auth schemes, plus one),
  // for memory budgets: exact for a sample from FromJson, and an upper
  // bound after merges (the sum of the samples'). 0 when empty().
  size_t size() const { return size_; }

 private:
  bool sampled_ = false;
  size_t size_ = 0;
  std::optional<std::string> content_type_;
  std::optional<Definition> body_;   // nullopt: EMPTY_SCHEMA
  std::optional<Definition> query_;  // nullopt: EMPTY_SCHEMA
  std::vector<Auth> auth_;
};

}  // namespace zen

#endif  // ZEN_AGENT_MODEL_API_SCHEMA_H_
