#include "codegen_runtime/message_json.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "codegen_runtime/protobuf_state.h"
#include "codegen_runtime/reflection_json.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/json_util.h"
#include "simdjson.h"

namespace zen::codegen_runtime {

static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING,
              "received JSON must leave simdjson its read-ahead");
namespace {

namespace pb = google::protobuf;
namespace od = simdjson::ondemand;
using internal::FieldEntry;
using internal::FieldKind;
using pb::FieldDescriptor;

// A thread-local parser keeps its buffers between calls, so a small message
// parses without allocating. One that grew past this (a large settings
// document) is dropped after use rather than pinned for the thread's life.
constexpr size_t kRetainedParserCapacity = size_t{1} << 20;

od::parser& OnDemandParser() {
  thread_local od::parser parser;
  return parser;
}

void TrimOnDemandParser() {
  od::parser& parser = OnDemandParser();
  if (parser.capacity() > kRetainedParserCapacity) parser = od::parser();
}

simdjson::dom::parser& DomParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

[[noreturn]] void DieBadSpec(const pb::Descriptor* type,
                             absl::string_view field, const char* why) {
  std::fprintf(
      stderr,
      "codegen_runtime: %s.%.*s %s: the generated code does not match its "
      ".proto; regenerate it\n",
      type->full_name().c_str(), static_cast<int>(field.size()), field.data(),
      why);
  std::abort();
}

std::vector<const FieldDescriptor*> ResolveRawJsonFields(
    const pb::Descriptor* type, absl::Span<const absl::string_view> names) {
  std::vector<const FieldDescriptor*> fields;
  for (absl::string_view name : names) {
    const FieldDescriptor* f = type->FindFieldByName(std::string(name));
    if (f == nullptr) DieBadSpec(type, name, "is not a field");
    if (f->is_repeated() || f->type() != FieldDescriptor::TYPE_STRING) {
      DieBadSpec(type, name, "(raw_json) is not a singular string field");
    }
    fields.push_back(f);
  }
  return fields;
}

absl::Status FromProtobuf(const pb::util::Status& status) {
  if (status.ok()) return absl::OkStatus();
  // protobuf 3.21's util::Status mirrors absl's codes; its parse errors are
  // all about the input.
  return absl::InvalidArgumentError(
      std::string(status.message().data(), status.message().size()));
}

pb::util::JsonPrintOptions PrintOptions() {
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  return options;
}

pb::util::JsonParseOptions ParseOptions() {
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  return options;
}

absl::Status RawJsonError(const FieldDescriptor* f, const absl::Status& why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "field '", f->name(),
      "' (raw_json) does not hold one JSON value: ", why.message()));
}

// Validates a set raw_json field before it is spliced into a message.
absl::Status CheckRawJsonField(const pb::Message& message,
                               const FieldDescriptor* f) {
  std::string scratch;
  const std::string& text =
      message.GetReflection()->GetStringReference(message, f, &scratch);
  // A writer of large raw JSON (like the agent's settings) reserves room
  // for simdjson's padding, and the text is then parsed where it is.
  const bool padded = text.capacity() - text.size() >= kJsonPadding;
  absl::Status status = ValidateJsonValue(text, padded);
  if (!status.ok()) return RawJsonError(f, status);
  return absl::OkStatus();
}

// Starts on-demand parsing of `json`, which must be one JSON object, into
// *doc (which must outlive *object).
absl::Status IterateObject(PaddedJsonView json, od::document* doc,
                           od::object* object) {
  if (auto error =
          OnDemandParser()
              .iterate(json.data(), json.size(), json.size() + kJsonPadding)
              .get(*doc)) {
    return internal::JsonError(error, "message");
  }
  if (doc->get_object().get(*object) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("message is not a JSON object");
  }
  return absl::OkStatus();
}

// After the object IterateObject started has been read: whatever follows it
// (a second value) is an error.
absl::Status CheckNothingAfter(od::document& doc) {
  const char* after;
  if (doc.current_location().get(after) == simdjson::SUCCESS) {
    return absl::InvalidArgumentError("text after the JSON object");
  }
  return absl::OkStatus();
}

// The type's tables, built with protobuf's lazy state completed for every
// type they reach (codegen_runtime/protobuf_state.h).
std::unique_ptr<const internal::TypeTables> BuildTables(
    const pb::Descriptor* type,
    absl::Span<const absl::string_view> raw_json_fields) {
  ProtobufStateLock lock;
  FinishLazyDescriptors(type);
  return std::make_unique<internal::TypeTables>(
      type, ResolveRawJsonFields(type, raw_json_fields));
}

}  // namespace

absl::Status ValidateJsonValue(absl::string_view text, bool padded) {
  simdjson::dom::element element;
  // With padding, the text is parsed where it is; without, dom::parser
  // copies it into its own padded buffer first.
  simdjson::dom::parser& parser = DomParser();
  const auto error =
      parser.parse(text.data(), text.size(), !padded).get(element);
  // As TrimOnDemandParser: a large value (a worker's batch of events) must
  // not pin its buffers, several times its size, for the thread's life.
  if (parser.capacity() > kRetainedParserCapacity) {
    parser = simdjson::dom::parser();
  }
  if (error) return internal::JsonError(error, "value");
  return absl::OkStatus();
}

MessageJson::MessageJson(const google::protobuf::Descriptor* type,
                         absl::Span<const absl::string_view> raw_json_fields)
    : type_(type), tables_(BuildTables(type, raw_json_fields)) {
  const internal::TypeTable& table = tables_->root();
  all_fallback_ = table.has_fallback() && !table.has_raw_json();
  for (const FieldEntry& entry : table.fields()) {
    if (entry.kind == FieldKind::kFallback) {
      fallback_fields_.add_paths(entry.field->name());
    } else {
      all_fallback_ = false;
    }
  }
}

MessageJson::~MessageJson() = default;

const google::protobuf::FieldDescriptor* MessageJson::FindField(
    absl::string_view name) const {
  return type_->FindFieldByName(std::string(name));
}

const google::protobuf::FieldDescriptor* MessageJson::FindRawJsonField(
    int number) const {
  const FieldDescriptor* f = type_->FindFieldByNumber(number);
  if (f == nullptr) return nullptr;
  return tables_->root().entry(f).kind == FieldKind::kRawJson ? f : nullptr;
}

absl::Status MessageJson::Encode(const google::protobuf::Message& message,
                                 std::string* out) const {
  return EncodeObject(message, nullptr, out);
}

absl::Status MessageJson::Encode(const google::protobuf::Message& message,
                                 absl::Span<const RawJsonSplice> splices,
                                 SplicedJson* out) const {
  ZEN_RETURN_IF_ERROR(CheckSplices(splices));
  const internal::Splicing splicing{splices, out};
  return EncodeObject(message, &splicing, out->text());
}

absl::Status MessageJson::CheckSplices(
    absl::Span<const RawJsonSplice> splices) const {
  for (const RawJsonSplice& splice : splices) {
    if (splice.field == nullptr || splice.field->containing_type() != type_ ||
        tables_->root().entry(splice.field).kind != FieldKind::kRawJson) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a spliced value names ",
          splice.field == nullptr ? std::string("no field")
                                  : "field '" + splice.field->full_name() + "'",
          ", not a raw_json field of ", type_->full_name()));
    }
  }
  return absl::OkStatus();
}

absl::Status MessageJson::EncodeObject(const google::protobuf::Message& message,
                                       const internal::Splicing* splicing,
                                       std::string* out) const {
  const internal::TypeTable& table = tables_->root();
  if (all_fallback_) {
    // No raw_json fields, so nothing to splice (CheckSplices saw to that).
    ProtobufStateLock lock;
    return FromProtobuf(
        pb::util::MessageToJsonString(message, out, PrintOptions()));
  }
  if (table.has_raw_json()) {
    const pb::Reflection* r = message.GetReflection();
    for (const FieldEntry& entry : table.fields()) {
      if (entry.kind != FieldKind::kRawJson) continue;
      if (!r->HasField(message, entry.field)) continue;
      // A spliced value replaces the message's, which is then not sent.
      if (splicing != nullptr && splicing->Find(entry.field) != nullptr) {
        continue;
      }
      ZEN_RETURN_IF_ERROR(CheckRawJsonField(message, entry.field));
    }
  }
  out->push_back('{');
  bool first = true;
  ZEN_RETURN_IF_ERROR(
      internal::AppendFields(message, table, &first, out, splicing));
  if (table.has_fallback()) {
    ZEN_RETURN_IF_ERROR(
        AppendFallbackFields(message, fallback_fields_, &first, out));
  }
  out->push_back('}');
  return absl::OkStatus();
}

absl::Status MessageJson::AppendFallbackFields(
    const google::protobuf::Message& message,
    const google::protobuf::FieldMask& fields, bool* first,
    std::string* out) const {
  // protobuf prints whole messages only: print a copy holding just these
  // fields and splice its members in.
  ProtobufStateLock lock;
  std::unique_ptr<pb::Message> subset(message.New());
  pb::util::FieldMaskUtil::MergeMessageTo(
      message, fields, pb::util::FieldMaskUtil::MergeOptions(), subset.get());
  std::string text;
  ZEN_RETURN_IF_ERROR(FromProtobuf(
      pb::util::MessageToJsonString(*subset, &text, PrintOptions())));
  // `text` is `{}` or `{"a":...,"b":...}` (no whitespace without
  // add_whitespace).
  if (text.size() <= 2) return absl::OkStatus();
  if (!*first) out->push_back(',');
  *first = false;
  out->append(text, 1, text.size() - 2);
  return absl::OkStatus();
}

absl::Status MessageJson::EncodeField(
    const google::protobuf::Message& message,
    const google::protobuf::FieldDescriptor* field, std::string* out) const {
  const FieldEntry& entry = tables_->root().entry(field);
  const bool set = internal::IsSet(message, field);
  if (entry.kind == FieldKind::kRawJson) {
    if (!set) {
      out->append("null");
      return absl::OkStatus();
    }
    ZEN_RETURN_IF_ERROR(CheckRawJsonField(message, field));
    return internal::AppendFieldValue(message, entry, out);
  }
  if (entry.kind == FieldKind::kFast) {
    if (!set && field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
        !field->is_repeated()) {
      out->append("null");  // protobuf's form of an absent message.
      return absl::OkStatus();
    }
    return internal::AppendFieldValue(message, entry, out);
  }
  // A fallback field that is unset has its default's form.
  if (!set) {
    if (field->is_map()) {
      out->append("{}");
    } else if (field->is_repeated()) {
      out->append("[]");
    } else if (field->type() == FieldDescriptor::TYPE_BYTES) {
      out->append("\"\"");
    } else {
      out->append("null");  // A message, or the NullValue enum.
    }
    return absl::OkStatus();
  }
  // A set one: print a copy holding only it, `{"name":value}`, and keep
  // the value.
  pb::FieldMask mask;
  mask.add_paths(field->name());
  ProtobufStateLock lock;
  std::unique_ptr<pb::Message> subset(message.New());
  pb::util::FieldMaskUtil::MergeMessageTo(
      message, mask, pb::util::FieldMaskUtil::MergeOptions(), subset.get());
  std::string text;
  ZEN_RETURN_IF_ERROR(FromProtobuf(
      pb::util::MessageToJsonString(*subset, &text, PrintOptions())));
  const std::string prefix = absl::StrCat("{\"", field->name(), "\":");
  if (text.size() < prefix.size() + 1 ||
      text.compare(0, prefix.size(), prefix) != 0) {
    return absl::InternalError(
        absl::StrCat("field '", field->name(), "': unexpected form ", text));
  }
  out->append(text, prefix.size(), text.size() - prefix.size() - 1);
  return absl::OkStatus();
}

absl::Status MessageJson::EncodeField(
    const google::protobuf::Message& message,
    const google::protobuf::FieldDescriptor* field,
    absl::Span<const RawJsonSplice> splices, SplicedJson* out) const {
  ZEN_RETURN_IF_ERROR(CheckSplices(splices));
  for (const RawJsonSplice& splice : splices) {
    if (splice.field == field) {
      out->AppendBorrowed(splice.json.text());
      return absl::OkStatus();
    }
  }
  return EncodeField(message, field, out->text());
}

absl::Status MessageJson::Decode(PaddedJsonView json,
                                 google::protobuf::Message* message,
                                 const Positional* positional) const {
  message->Clear();
  const internal::TypeTable& table = tables_->root();
  if (positional == nullptr && all_fallback_) {
    ProtobufStateLock lock;
    return FromProtobuf(pb::util::JsonStringToMessage(
        pb::StringPiece(json.data(), json.size()), message, ParseOptions()));
  }
  absl::Status status;
  if (positional == nullptr && !table.has_fallback() && !table.has_raw_json()) {
    od::document doc;
    od::object object;
    status = IterateObject(json, &doc, &object);
    if (status.ok()) status = internal::ParseObject(object, table, message, 0);
    if (status.ok()) status = CheckNothingAfter(doc);
  } else {
    status = DecodeMixed(json, message, positional);
  }
  TrimOnDemandParser();
  return status;
}

absl::Status MessageJson::DecodeMixed(PaddedJsonView json,
                                      google::protobuf::Message* message,
                                      const Positional* positional) const {
  const internal::TypeTable& table = tables_->root();
  const pb::Reflection* r = message->GetReflection();
  // Fallback members, gathered into one object for protobuf's parser.
  std::string rest;
  // Fields the object named, which positional arguments must not override.
  std::vector<const FieldDescriptor*> named;

  // Handles one value for `entry`; `from_args` values treat `null` as "not
  // given" (a Ruby nil argument), even for raw_json fields.
  auto take = [&](od::value value, const FieldEntry& entry,
                  bool from_args) -> absl::Status {
    const FieldDescriptor* f = entry.field;
    if (from_args) {
      od::json_type type;
      if (auto error = value.type().get(type)) {
        return internal::JsonError(error, f->name());
      }
      if (type == od::json_type::null) return absl::OkStatus();
    }
    if (entry.kind == FieldKind::kFast) {
      return internal::ParseFieldValue(value, entry, message, 0);
    }
    absl::string_view text;
    ZEN_RETURN_IF_ERROR(internal::RawValueText(value, &text));
    if (entry.kind == FieldKind::kRawJson) {
      // The text lies inside the padded input, so it is padded too.
      absl::Status valid = ValidateJsonValue(text, /*padded=*/true);
      if (!valid.ok()) return RawJsonError(f, valid);
      r->SetString(message, f, std::string(text));
      return absl::OkStatus();
    }
    absl::StrAppend(&rest, rest.empty() ? "{\"" : ",\"", f->name(),
                    "\":", text);
    return absl::OkStatus();
  };

  {
    od::document doc;
    od::object object;
    ZEN_RETURN_IF_ERROR(IterateObject(json, &doc, &object));
    ZEN_RETURN_IF_ERROR(internal::ForEachMember(
        object, "message",
        [&](absl::string_view key, od::value& value) -> absl::Status {
          const FieldEntry* entry = table.Find(key);
          if (entry == nullptr) return absl::OkStatus();  // Unknown: skipped.
          if (positional != nullptr) named.push_back(entry->field);
          return take(value, *entry, /*from_args=*/false);
        }));
    ZEN_RETURN_IF_ERROR(CheckNothingAfter(doc));
  }

  if (positional != nullptr) {
    od::document doc;
    od::array array;
    const PaddedJsonView args = positional->args;
    if (auto error =
            OnDemandParser()
                .iterate(args.data(), args.size(), args.size() + kJsonPadding)
                .get(doc)) {
      return internal::JsonError(error, "args");
    }
    if (doc.get_array().get(array) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError("args is not a JSON array");
    }
    size_t i = 0;
    for (auto element : array) {
      if (i >= positional->fields.size()) break;  // Extra arguments: dropped.
      const FieldDescriptor* f = positional->fields[i++];
      od::value value;
      if (auto error = std::move(element).get(value)) {
        return internal::JsonError(error, "args");
      }
      if (std::find(named.begin(), named.end(), f) != named.end()) continue;
      ZEN_RETURN_IF_ERROR(take(value, table.entry(f), /*from_args=*/true));
    }
  }

  if (!rest.empty()) {
    rest.push_back('}');
    std::unique_ptr<pb::Message> parsed(message->New());
    {
      ProtobufStateLock lock;
      ZEN_RETURN_IF_ERROR(FromProtobuf(
          pb::util::JsonStringToMessage(rest, parsed.get(), ParseOptions())));
    }
    // Move the fallback fields over; `message` has none of them set.
    std::vector<const FieldDescriptor*> fields;
    parsed->GetReflection()->ListFields(*parsed, &fields);
    r->SwapFields(message, parsed.get(), fields);
  }
  return absl::OkStatus();
}

}  // namespace zen::codegen_runtime
