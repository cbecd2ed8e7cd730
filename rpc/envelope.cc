#include "rpc/envelope.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ipc/frame.h"
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

absl::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\n' || s[b] == '\r'))
    ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\n' ||
                   s[e - 1] == '\r')) {
    --e;
  }
  return absl::string_view(s.data() + b, e - b);
}

absl::Status Shape(absl::string_view what) {
  return absl::InvalidArgumentError(what);
}

// The raw text of a value of any type.
simdjson::error_code RawValue(ondemand::value& v, absl::string_view* out) {
  ondemand::json_type type;
  if (auto e = v.type().get(type)) return e;
  std::string_view raw;
  if (type == ondemand::json_type::array) {
    ondemand::array a;
    if (auto e = v.get_array().get(a)) return e;
    if (auto e = a.raw_json().get(raw)) return e;
  } else if (type == ondemand::json_type::object) {
    ondemand::object o;
    if (auto e = v.get_object().get(o)) return e;
    if (auto e = o.raw_json().get(raw)) return e;
  } else {
    raw = v.raw_json_token();
  }
  *out = Trim(raw);
  return simdjson::SUCCESS;
}

}  // namespace

struct EnvelopeParser::Parsers {
  simdjson::dom::parser dom;
  ondemand::parser on_demand;
};

// Frees what a message over kKeepCapacity made the parsers hold, as soon as
// its parse is over rather than at the next message, which may not come for
// a long time (a worker idles between heartbeats). Declared before the
// Iteration, so the document is gone first. Nothing parsed points into the
// parsers' buffers: views point into the frame, strings are copied.
class EnvelopeParser::ReleaseAfterLarge {
 public:
  ReleaseAfterLarge(Parsers* parsers, size_t json_size)
      : parsers_(parsers), large_(json_size > kKeepCapacity) {}
  ~ReleaseAfterLarge() {
    if (!large_) return;
    parsers_->dom = simdjson::dom::parser();
    parsers_->on_demand = ondemand::parser();
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

struct EnvelopeParser::Iteration {
  ondemand::document doc;
  ondemand::array array;
};

absl::Status EnvelopeParser::Begin(absl::string_view json, const char* what,
                                   Iteration* out) {
  // The DOM parser validates everything (structure, UTF-8, numbers, escapes,
  // depth) in one pass; the on-demand pass afterwards only slices.
  const size_t capacity = std::max<size_t>(json.size(), 4096);
  if (parsers_->dom.capacity() < json.size() ||
      parsers_->dom.max_depth() != max_depth_ ||
      parsers_->dom.capacity() > std::max(kKeepCapacity, json.size())) {
    if (auto e = parsers_->dom.allocate(capacity, max_depth_)) {
      return absl::ResourceExhaustedError(simdjson::error_message(e));
    }
  }
  if (json.empty()) return absl::DataLossError("not JSON: empty frame");
  simdjson::dom::element root;
  auto e = parsers_->dom.parse(json.data(), json.size(), false).get(root);
  if (e) {
    return absl::DataLossError(
        absl::StrCat("not JSON: ", simdjson::error_message(e)));
  }
  if (parsers_->on_demand.capacity() > std::max(kKeepCapacity, json.size())) {
    parsers_->on_demand = ondemand::parser();
  }
  if (parsers_->on_demand
          .iterate(json.data(), json.size(), json.size() + ipc::kFramePadding)
          .get(out->doc)) {
    return absl::DataLossError("not JSON");
  }
  if (out->doc.get_array().get(out->array)) {
    return Shape(absl::StrCat(what, " is not an array"));
  }
  return absl::OkStatus();
}

absl::Status EnvelopeParser::ParseRequest(absl::string_view json,
                                          RequestView* out) {
  ReleaseAfterLarge release(parsers_.get(), json.size());
  Iteration it;
  ZEN_RETURN_IF_ERROR(Begin(json, "request", &it));
  size_t index = 0;
  for (auto element : it.array) {
    ondemand::value v;
    if (element.get(v)) return Shape("bad element");
    switch (index) {
      case 0: {
        ondemand::json_type type;
        if (v.type().get(type) || type != ondemand::json_type::string) {
          return Shape("request id is not a string");
        }
        out->id_json = Trim(v.raw_json_token());
        break;
      }
      case 1: {
        std::string_view method;
        if (v.get_string().get(method)) return Shape("method is not a string");
        out->method.assign(method.data(), method.size());
        break;
      }
      case 2: {
        ondemand::array args;
        std::string_view raw;
        if (v.get_array().get(args) || args.raw_json().get(raw)) {
          return Shape("args is not an array");
        }
        out->args = Trim(raw);
        break;
      }
      case 3: {
        ondemand::object kwargs;
        std::string_view raw;
        if (v.get_object().get(kwargs) || kwargs.raw_json().get(raw)) {
          return Shape("kwargs is not an object");
        }
        out->kwargs = Trim(raw);
        break;
      }
      default:
        return Shape("request has more than 4 elements");
    }
    ++index;
  }
  if (index != 4) return Shape("request has fewer than 4 elements");
  return absl::OkStatus();
}

absl::Status EnvelopeParser::ParseResponse(absl::string_view json,
                                           ResponseView* out) {
  ReleaseAfterLarge release(parsers_.get(), json.size());
  Iteration it;
  ZEN_RETURN_IF_ERROR(Begin(json, "response", &it));
  size_t index = 0;
  absl::string_view error_json;
  for (auto element : it.array) {
    ondemand::value v;
    if (element.get(v)) return Shape("bad element");
    switch (index) {
      case 0: {
        std::string_view id;
        if (v.get_string().get(id)) return Shape("response id is not a string");
        out->id.assign(id.data(), id.size());
        break;
      }
      case 1:
        if (RawValue(v, &out->result)) return Shape("bad result");
        break;
      case 2:
        if (RawValue(v, &error_json)) return Shape("bad error");
        break;
      default:
        return Shape("response has more than 3 elements");
    }
    ++index;
  }
  if (index != 3) return Shape("response has fewer than 3 elements");
  out->error = ErrorFromJson(error_json);
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

}  // namespace zen::rpc
