// The envelope codec: requests `[id, method, args, kwargs]` and responses
// `[id, result, error]` (docs/protocol.md, "Messages").
//
// Parsing is strict and done by simdjson: invalid UTF-8, comments, NaN and
// Infinity, numbers out of double range, trailing bytes and nesting deeper
// than the limit are not JSON. `args`, `kwargs` and `result` are handed out
// as the raw text the peer sent (no copy, no re-printing).
#ifndef ZEN_RPC_ENVELOPE_H_
#define ZEN_RPC_ENVELOPE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace zen::rpc {

// A parsed request. Views point into the parsed buffer.
struct RequestView {
  absl::string_view
      id_json;         // The id as sent: a JSON string token, quotes included.
  std::string method;  // Unescaped.
  absl::string_view args;    // Raw JSON array.
  absl::string_view kwargs;  // Raw JSON object.
};

// A parsed response. `result` points into the parsed buffer.
struct ResponseView {
  std::string id;            // Unescaped.
  absl::string_view result;  // Raw JSON value; "null" when absent.
  absl::Status error;        // OK unless the response carries an error.
};

// Parses envelopes. Keeps simdjson's buffers between calls, so keep one per
// thread (ThreadLocal() below). Not thread-safe.
//
// Inputs must be followed by at least 64 readable bytes (ipc::kFramePadding);
// frames from ipc::MessageStream are.
//
// Both parse functions return kDataLoss when `json` is not JSON at all (the
// connection must be dropped) and kInvalidArgument when it is JSON of the
// wrong shape (ignored; the connection stays).
class EnvelopeParser {
 public:
  explicit EnvelopeParser(size_t max_depth = 64);
  ~EnvelopeParser();
  EnvelopeParser(const EnvelopeParser&) = delete;
  EnvelopeParser& operator=(const EnvelopeParser&) = delete;

  // On success every field of *out is set; on failure none is touched.
  absl::Status ParseRequest(absl::string_view json, RequestView* out);
  absl::Status ParseResponse(absl::string_view json, ResponseView* out);

  // This thread's parser with the given depth limit.
  static EnvelopeParser& ThreadLocal(size_t max_depth);

 private:
  struct Parsers;
  struct Elements;  // The top-level array's elements, parsed and raw.
  // Validates `json` strictly and finds the `expected` elements of its
  // top-level array (`what` names the envelope in the shape errors).
  absl::Status Begin(absl::string_view json, const char* what, size_t expected,
                     Elements* out);
  class ReleaseAfterLarge;
  std::unique_ptr<Parsers> parsers_;
  size_t max_depth_;
};

// The error object we send: {"code":"<CANONICAL_CODE>","message":"..."}.
std::string ErrorJson(const absl::Status& error);

// Interprets a response's `error` value (raw JSON): null/false → OK; a
// string (the reference's) → kUnknown with that message, except the
// reference's unknown-method text "undefined handler '<name>'" →
// kUnimplemented (so a caller can tell an older parent from a failure and
// fall back, as AgentClient does for watch_settings); an object with a
// string "code" → that code and its "message"; anything else → kUnknown
// with the JSON text as message.
absl::Status ErrorFromJson(absl::string_view error_json);

// The pieces of a request frame body, for a gathered write. `id` must need
// no escaping (ours are [0-9a-z-]); `method_json` is JsonString(method).
// The views must outlive the write.
struct RequestParts {
  RequestParts(absl::string_view id, absl::string_view method_json,
               absl::string_view args_json, absl::string_view kwargs_json);
  // The same parts for a method name that needs no escaping
  // (json_writer.h's NeedsNoEscaping), which goes between the quotes as it
  // is.
  static RequestParts WithPlainMethod(absl::string_view id,
                                      absl::string_view method,
                                      absl::string_view args_json,
                                      absl::string_view kwargs_json);
  absl::Span<const absl::string_view> parts() const { return parts_; }

 private:
  RequestParts() = default;
  absl::string_view parts_[9];
};

}  // namespace zen::rpc

#endif  // ZEN_RPC_ENVELOPE_H_
