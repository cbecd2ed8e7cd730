#include "rpc/envelope.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ipc/frame.h"
#include "rpc/array_slicer.h"
#include "rpc/json_writer.h"
#include "rpc/status_codes.h"
#include "simdjson.h"

namespace zen::rpc {

static_assert(ipc::kFramePadding >= simdjson::SIMDJSON_PADDING,
              "frames must leave simdjson its read-ahead");
namespace {

namespace ondemand = simdjson::ondemand;

// simdjson keeps buffers as large as the largest document it has seen; do not
// let one large frame pin megabytes per thread.
constexpr size_t kKeepCapacity = size_t{1} << 20;

absl::Status Shape(absl::string_view what) {
  return absl::InvalidArgumentError(what);
}

// The envelope's elements have at most this many.
constexpr size_t kMaxElements = 4;

}  // namespace

struct EnvelopeParser::Parsers {
  simdjson::dom::parser dom;
};

// Frees what a message over kKeepCapacity made the parser hold, as soon as
// its parse is over rather than at the next message, which may not come for
// a long time (a worker idles between heartbeats). Nothing parsed points
// into the parser's buffers: views point into the frame, strings are copied.
class EnvelopeParser::ReleaseAfterLarge {
 public:
  ReleaseAfterLarge(Parsers* parsers, size_t json_size)
      : parsers_(parsers), large_(json_size > kKeepCapacity) {}
  ~ReleaseAfterLarge() {
    if (large_) parsers_->dom = simdjson::dom::parser();
  }

 private:
  Parsers* const parsers_;
  const bool large_;
};

EnvelopeParser::EnvelopeParser(size_t max_depth)
    : parsers_(std::make_unique<Parsers>()), max_depth_(max_depth) {}

EnvelopeParser::~EnvelopeParser() = default;

EnvelopeParser& EnvelopeParser::ThreadLocal(size_t max_depth) {
  thread_local std::unique_ptr<EnvelopeParser> parser;
  if (parser == nullptr || parser->max_depth_ != max_depth) {
    parser = std::make_unique<EnvelopeParser>(max_depth);
  }
  return *parser;
}

// The validated envelope: its elements as parsed values and as raw text.
struct EnvelopeParser::Elements {
  size_t count = 0;
  simdjson::dom::element value[kMaxElements];
  absl::string_view raw[kMaxElements];
};

absl::Status EnvelopeParser::Begin(absl::string_view json, const char* what,
                                   size_t expected, Elements* out) {
  // The DOM parser validates everything (structure, UTF-8, numbers, escapes,
  // depth) in one pass; the raw texts are then sliced from the valid text.
  const size_t capacity = std::max<size_t>(json.size(), 4096);
  if (parsers_->dom.capacity() < json.size() ||
      parsers_->dom.max_depth() != max_depth_ ||
      parsers_->dom.capacity() > std::max(kKeepCapacity, json.size())) {
    if (auto e = parsers_->dom.allocate(capacity, max_depth_)) {
      return absl::ResourceExhaustedError(simdjson::error_message(e));
    }
  }
  if (json.empty()) return absl::DataLossError("not JSON: empty frame");
  // Newer simdjson releases skip a leading UTF-8 byte order mark; JSON on
  // this wire has none (RFC 8259 forbids sending one), and the slicing
  // below starts at the first byte.
  if (absl::StartsWith(json, "\xEF\xBB\xBF")) {
    return absl::DataLossError("not JSON: byte order mark");
  }
  simdjson::dom::element root;
  auto e = parsers_->dom.parse(json.data(), json.size(), false).get(root);
  if (e) {
    return absl::DataLossError(
        absl::StrCat("not JSON: ", simdjson::error_message(e)));
  }
  simdjson::dom::array array;
  if (root.get_array().get(array)) {
    return Shape(absl::StrCat(what, " is not an array"));
  }
  for (simdjson::dom::element element : array) {
    if (out->count == expected) {
      return Shape(
          absl::StrCat(what, " has more than ", expected, " elements"));
    }
    out->value[out->count++] = element;
  }
  if (out->count != expected) {
    return Shape(absl::StrCat(what, " has fewer than ", expected, " elements"));
  }
  internal::SliceArrayElements(json, out->count, out->raw);
  return absl::OkStatus();
}

absl::Status EnvelopeParser::ParseRequest(absl::string_view json,
                                          RequestView* out) {
  ReleaseAfterLarge release(parsers_.get(), json.size());
  Elements elements;
  ZEN_RETURN_IF_ERROR(Begin(json, "request", 4, &elements));
  if (!elements.value[0].is_string()) {
    return Shape("request id is not a string");
  }
  std::string_view method;
  if (elements.value[1].get_string().get(method)) {
    return Shape("method is not a string");
  }
  if (!elements.value[2].is_array()) return Shape("args is not an array");
  if (!elements.value[3].is_object()) return Shape("kwargs is not an object");
  out->id_json = elements.raw[0];
  out->method.assign(method.data(), method.size());
  out->args = elements.raw[2];
  out->kwargs = elements.raw[3];
  return absl::OkStatus();
}

absl::Status EnvelopeParser::ParseResponse(absl::string_view json,
                                           ResponseView* out) {
  ReleaseAfterLarge release(parsers_.get(), json.size());
  Elements elements;
  ZEN_RETURN_IF_ERROR(Begin(json, "response", 3, &elements));
  std::string_view id;
  if (elements.value[0].get_string().get(id)) {
    return Shape("response id is not a string");
  }
  out->id.assign(id.data(), id.size());
  out->result = elements.raw[1];
  out->error = ErrorFromJson(elements.raw[2]);
  return absl::OkStatus();
}

std::string ErrorJson(const absl::Status& error) {
  std::string out = "{\"code\":\"";
  const absl::string_view name = StatusCodeName(error.code());
  out.append(name.data(), name.size());
  out.append("\",\"message\":");
  AppendJsonString(&out, error.message());
  out.push_back('}');
  return out;
}

absl::Status ErrorFromJson(absl::string_view error_json) {
  if (error_json == "null" || error_json == "false") return absl::OkStatus();
  // Small and rare: a padded copy keeps this independent of the caller's
  // buffer.
  simdjson::padded_string padded(error_json.data(), error_json.size());
  ondemand::parser parser;
  ondemand::document doc;
  if (parser.iterate(padded).get(doc)) {
    return absl::UnknownError(error_json);
  }
  ondemand::json_type type;
  if (doc.type().get(type)) return absl::UnknownError(error_json);
  if (type == ondemand::json_type::string) {
    std::string_view message;
    if (doc.get_string().get(message)) return absl::UnknownError(error_json);
    const absl::string_view text(message.data(), message.size());
    if (absl::StartsWith(text, "undefined handler '") &&
        absl::EndsWith(text, "'")) {
      return absl::UnimplementedError(text);
    }
    return absl::UnknownError(text);
  }
  if (type == ondemand::json_type::object) {
    ondemand::object object;
    if (doc.get_object().get(object)) return absl::UnknownError(error_json);
    std::string code_name;
    std::string message;
    bool has_code = false;
    for (auto field : object) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return absl::UnknownError(error_json);
      std::string_view text;
      if (key == "code") {
        if (field.value().get_string().get(text))
          return absl::UnknownError(error_json);
        code_name.assign(text.data(), text.size());
        has_code = true;
      } else if (key == "message") {
        if (field.value().get_string().get(text))
          return absl::UnknownError(error_json);
        message.assign(text.data(), text.size());
      }
    }
    if (has_code) {
      absl::StatusCode code = StatusCodeFromName(code_name);
      // An error that claims OK is still an error.
      if (code == absl::StatusCode::kOk) code = absl::StatusCode::kUnknown;
      return absl::Status(code, message);
    }
  }
  return absl::UnknownError(error_json);
}

RequestParts::RequestParts(absl::string_view id, absl::string_view method_json,
                           absl::string_view args_json,
                           absl::string_view kwargs_json)
    : parts_{"[\"",     id,  "\",",       method_json, ",",
             args_json, ",", kwargs_json, "]"} {}

RequestParts RequestParts::WithPlainMethod(absl::string_view id,
                                           absl::string_view method,
                                           absl::string_view args_json,
                                           absl::string_view kwargs_json) {
  RequestParts parts;
  const absl::string_view p[9] = {"[\"",     id,  "\",\"",     method, "\",",
                                  args_json, ",", kwargs_json, "]"};
  std::copy(std::begin(p), std::end(p), parts.parts_);
  return parts;
}

}  // namespace zen::rpc
