// Internal to //codegen_runtime: the stubs' JSON for the common field types,
// done by reflection: printed straight into a string and parsed with simdjson
// on-demand, without protobuf's JSON <-> binary round trip (docs/benchmarks.md
// has what each costs). The type tables live in reflection_json.cc, printing
// in json_print.cc, parsing in json_parse.cc.
//
// "Fast" fields are singular or repeated numbers, bools, strings, enums,
// google.protobuf.Value (json_value.h) and messages made of fast fields.
// Anything else (maps, bytes, other well-known types such as Struct or
// Timestamp, groups) is a "fallback" field, left to protobuf's
// util::JsonStringToMessage / MessageToJsonString by the caller
// (MessageJson). The mapping is protobuf's with the reference peer's forms
// (docs/codegen.md): keys as written or an explicit json_name, 64-bit
// integers as numbers; message_json_test checks the two against each other.
#ifndef ZEN_CODEGEN_RUNTIME_REFLECTION_JSON_H_
#define ZEN_CODEGEN_RUNTIME_REFLECTION_JSON_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "codegen_runtime/field_access.h"
#include "codegen_runtime/spliced_json.h"
#include "codegen_runtime/validated_json.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "simdjson.h"

namespace zen::codegen_runtime::internal {

// Nesting deeper than this is rejected when parsing (protobuf's own limit).
inline constexpr int kMaxMessageDepth = 100;

enum class FieldKind {
  kFast,      // Handled here.
  kRawJson,   // A top-level string holding JSON text, spliced verbatim.
  kFallback,  // Left to protobuf's JSON utilities.
};

class TypeTable;

// Types and enums whose JSON form protobuf special-cases (Timestamp as RFC
// 3339 text, Struct as any JSON, wrappers as bare values, NullValue as
// null): all of them live in package google.protobuf.
bool IsWellKnown(const google::protobuf::FileDescriptor* file);

// kInvalidArgument "field '<name>': <what>".
absl::Status FieldError(const google::protobuf::FieldDescriptor* field,
                        absl::string_view what);

// Prefixes an error from inside a nested message with the field's name, so
// the message reads as a path ("route.method: ...").
absl::Status Nested(const google::protobuf::FieldDescriptor* field,
                    const absl::Status& status);

// The key a field is printed under: its `json_name` when the .proto sets one
// explicitly (`[json_name = "lastIpAddress"]`, how a message matches a peer
// that writes lowerCamel keys), else its proto name as written.
inline const std::string& WireKey(const google::protobuf::FieldDescriptor* f) {
  return f->has_json_name() ? f->json_name() : f->name();
}

// Whether `message` has a value for `f` to print: a repeated field when not
// empty, a singular one as HasField says (presence-aware: an
// implicit-presence scalar is "set" when not zero, as protobuf's printer
// decides without always_print_primitive_fields).
// `r` is message's reflection (GetReflection costs a lookup: callers that
// ask of many fields look it up once).
inline bool IsSet(const google::protobuf::Message& message,
                  const google::protobuf::Reflection* r,
                  const google::protobuf::FieldDescriptor* f) {
  return f->is_repeated() ? r->FieldSize(message, f) > 0
                          : r->HasField(message, f);
}
inline bool IsSet(const google::protobuf::Message& message,
                  const google::protobuf::FieldDescriptor* f) {
  return IsSet(message, message.GetReflection(), f);
}

struct FieldEntry {
  const google::protobuf::FieldDescriptor* field = nullptr;
  FieldKind kind = FieldKind::kFast;
  // For kFast message-typed fields: the table of the field's type; nullptr
  // for a google.protobuf.Value, which holds any JSON (json_value.h).
  const TypeTable* message = nullptr;
  // Typed access generated for this field (field_access.h), or nullptr;
  // usable on a message only if the table's access Covers() it.
  const FieldAccess* access = nullptr;
  const MessageAccess* access_owner = nullptr;  // Set with `access`.
  // `,"<WireKey>":`, what precedes the field's value in an object, made
  // once here rather than appended piece by piece per field printed.
  std::string comma_key;

  // Appends what precedes the value: comma_key, without its comma for an
  // object's first member.
  void AppendKey(bool first, std::string* out) const {
    const size_t skip = first ? 1 : 0;
    out->append(comma_key.data() + skip, comma_key.size() - skip);
  }
};

// How the fields of one message type map to JSON. Immutable once built.
class TypeTable {
 public:
  const google::protobuf::Descriptor* type() const { return type_; }

  // The entry of the field with this JSON key (the proto name or the
  // lowerCamel json_name, as protobuf's parser accepts), or nullptr.
  const FieldEntry* Find(absl::string_view key) const {
    auto it = by_key_.find(key);
    return it == by_key_.end() ? nullptr : &fields_[it->second];
  }

  const FieldEntry& entry(const google::protobuf::FieldDescriptor* f) const {
    return fields_[f->index()];
  }

  // Indexed by FieldDescriptor::index().
  absl::Span<const FieldEntry> fields() const { return fields_; }

  // The generated class's accessors (field_access.h), or nullptr. Use
  // FieldEntry::access only for a message it Covers().
  const MessageAccess* access() const { return access_; }
  // Whether `message` may be read and written through FieldEntry::access.
  bool Accessible(const google::protobuf::Message& message) const {
    return access_ != nullptr && access_->Covers(message);
  }

  bool has_fallback() const { return has_fallback_; }
  bool has_raw_json() const { return has_raw_json_; }

 private:
  friend class TypeTables;
  const google::protobuf::Descriptor* type_ = nullptr;
  std::vector<FieldEntry> fields_;
  // Keys point into descriptor-owned strings, which live as long as their
  // pool (forever, for generated messages).
  absl::flat_hash_map<absl::string_view, int> by_key_;
  const MessageAccess* access_ = nullptr;
  bool has_fallback_ = false;
  bool has_raw_json_ = false;
};

// The tables of one top-level message type and of every type reachable
// through its fast fields. `raw_json_fields` are fields of `root` (singular
// strings); only the root has raw_json and fallback fields, since a nested
// type with a fallback field makes the whole top-level field a fallback.
//
// Immutable after construction, so thread-safe. The descriptors must outlive
// it.
class TypeTables {
 public:
  TypeTables(const google::protobuf::Descriptor* root,
             absl::Span<const google::protobuf::FieldDescriptor* const>
                 raw_json_fields);
  TypeTables(const TypeTables&) = delete;
  TypeTables& operator=(const TypeTables&) = delete;

  const TypeTable& root() const { return *tables_.front(); }

 private:
  // Decides, for every message type reachable from `root`, whether all its
  // fields are fast, transitively.
  void ComputeFastTypes(const google::protobuf::Descriptor* root);
  bool IsFastField(const google::protobuf::FieldDescriptor* field) const;
  const TypeTable* TableFor(const google::protobuf::Descriptor* type);
  void Fill(TypeTable* table,
            absl::Span<const google::protobuf::FieldDescriptor* const>
                raw_json_fields);

  std::vector<std::unique_ptr<TypeTable>> tables_;  // Root first.
  absl::flat_hash_map<const google::protobuf::Descriptor*, const TypeTable*>
      by_type_;
  absl::flat_hash_map<const google::protobuf::Descriptor*, bool> fast_;
};

// Appends the JSON value of one set field (kFast, or kRawJson verbatim):
// a scalar, string, array or object. kInvalidArgument if a string is not
// UTF-8 (protobuf's parsers reject such messages, and strict JSON peers
// would drop the connection).
absl::Status AppendFieldValue(const google::protobuf::Message& message,
                              const FieldEntry& entry, std::string* out);
// The same, with message's reflection looked up by the caller.
absl::Status AppendFieldValue(const google::protobuf::Message& message,
                              const google::protobuf::Reflection* r,
                              const FieldEntry& entry, std::string* out);

// Raw_json values given apart from the message, and where they go: a
// field's value is borrowed into *spliced, whose text() is the `out` the
// fields are appended to, in place of what the message holds.
struct Splicing {
  absl::Span<const RawJsonSplice> values;
  SplicedJson* spliced = nullptr;

  // The value given for `field`, or nullptr.
  const RawJsonSplice* Find(
      const google::protobuf::FieldDescriptor* field) const {
    for (const RawJsonSplice& s : values) {
      if (s.field == field) return &s;
    }
    return nullptr;
  }
};

// Appends `"name":value` for every set kFast and kRawJson field of
// `message`, each preceded by a comma unless `*first` (which it clears).
// With `splicing`, the kRawJson fields it names count as set and their
// values are borrowed into splicing->spliced, whose text() must be `out`.
absl::Status AppendFields(const google::protobuf::Message& message,
                          const TypeTable& table, bool* first, std::string* out,
                          const Splicing* splicing = nullptr);

// Parses `value` into the kFast field `entry` of `message`: sets a singular
// field, appends to a repeated one. JSON `null` leaves the field unset.
// kInvalidArgument (naming the field) if the value does not fit the field.
absl::Status ParseFieldValue(simdjson::ondemand::value value,
                             const FieldEntry& entry,
                             google::protobuf::Message* message, int depth);

// Parses a JSON object whose fields are all kFast (a nested message).
// Unknown keys are skipped.
absl::Status ParseObject(simdjson::ondemand::object object,
                         const TypeTable& table,
                         google::protobuf::Message* message, int depth);

// Calls `visit(key, value)` for each member of `object`, in order, with
// `key` unescaped (an absl::string_view into the parser's buffer) and
// `value` a simdjson::ondemand::value&; `visit` returns absl::Status. Stops
// at the first error: the visitor's, or, for malformed JSON,
// kInvalidArgument naming `what` (or "`what` key"). Every loop over an
// object's members is this one.
template <typename Visit>
absl::Status ForEachMember(simdjson::ondemand::object& object,
                           absl::string_view what, Visit&& visit);

// The raw text of `value` (an object, array or scalar), without the
// whitespace that follows it. Consumes the value.
absl::Status RawValueText(simdjson::ondemand::value value,
                          absl::string_view* text);

// Strips JSON whitespace (space, tab, newline, carriage return) at both ends.
absl::string_view TrimJsonWhitespace(absl::string_view text);

// Appends `s` as a JSON string: control characters, quotes and backslashes
// escaped, everything else as it is. kInvalidArgument (with a partial text
// in *out) if `s` is not UTF-8.
absl::Status AppendJsonString(absl::string_view s, std::string* out);

// Appends a finite number in its shortest form that reads back exactly.
void AppendFiniteDouble(double value, std::string* out);

// kInvalidArgument with simdjson's description of `error`.
absl::Status JsonError(simdjson::error_code error, absl::string_view what);

template <typename Visit>
absl::Status ForEachMember(simdjson::ondemand::object& object,
                           absl::string_view what, Visit&& visit) {
  for (auto member : object) {
    simdjson::ondemand::field field;
    if (auto error = std::move(member).get(field)) {
      return JsonError(error, what);
    }
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) {
      return JsonError(error, absl::StrCat(what, " key"));
    }
    absl::Status status =
        visit(absl::string_view(key.data(), key.size()), field.value());
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace zen::codegen_runtime::internal

#endif  // ZEN_CODEGEN_RUNTIME_REFLECTION_JSON_H_
