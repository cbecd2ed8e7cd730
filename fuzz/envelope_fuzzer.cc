// Fuzzes rpc::EnvelopeParser (requests and responses), the error codec
// (ErrorJson / ErrorFromJson) and the JSON string writer, on arbitrary text.
//
// Input: one byte picks what to parse and the depth limit; the rest is the
// frame body. Checked:
// * outcomes are OK, kDataLoss (not JSON: drop the connection) or
//   kInvalidArgument (wrong shape: ignore), nothing else;
// * the outcome does not depend on the padding bytes after the body;
// * the raw views handed out lie inside the body and are whole JSON values
//   of the promised type, each the element at its index (compared, minified,
//   with a separate parse of the whole body), so the server can splice the id
//   into its response and the client get the same id back;
// * ErrorFromJson(ErrorJson(s)) gives s back, and JsonString always writes
//   valid JSON that reads back as its input (valid UTF-8) or with U+FFFD.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "ipc/frame.h"
#include "rpc/envelope.h"
#include "rpc/json_writer.h"
#include "simdjson.h"

namespace zen::fuzz {
namespace {

constexpr size_t kDepths[] = {64, 1, 3, 1024};

// The body followed by kFramePadding bytes of `fill`, as frames arrive.
struct Padded {
  Padded(absl::string_view body, char fill)
      : storage(std::string(body) + std::string(ipc::kFramePadding, fill)),
        view(storage.data(), body.size()) {}
  std::string storage;
  absl::string_view view;
};

bool Inside(absl::string_view part, absl::string_view whole) {
  return part.data() >= whole.data() &&
         part.data() + part.size() <= whole.data() + whole.size();
}

bool Wrapped(absl::string_view text, char open, char close) {
  return text.size() >= 2 && text.front() == open && text.back() == close;
}

// The unescaped content of a JSON string literal, or false.
bool ReadJsonString(absl::string_view literal, std::string* out) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(literal.data(), literal.size());
  std::string_view value;
  if (parser.parse(padded).get_string().get(value)) return false;
  out->assign(value.data(), value.size());
  return true;
}

bool IsJsonValue(absl::string_view text) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text.data(), text.size());
  return !parser.parse(padded).error();
}

// The minified text of a JSON value, or "" if it is not one.
std::string Minified(absl::string_view text) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text.data(), text.size());
  simdjson::dom::element element;
  if (parser.parse(padded).get(element)) return "";
  return simdjson::minify(element);
}

// A raw view is exactly the envelope's element at `index`: parsed on its
// own, it is what a parse of the whole body finds there.
void CheckElement(absl::string_view body, size_t index,
                  absl::string_view element_text) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body.data(), body.size());
  simdjson::dom::array array;
  FUZZ_CHECK(!parser.parse(padded).get_array().get(array));
  simdjson::dom::element element;
  FUZZ_CHECK(!array.at(index).get(element));
  FUZZ_CHECK(Minified(element_text) == simdjson::minify(element));
}

void CheckRequest(rpc::EnvelopeParser& parser, absl::string_view body) {
  Padded a(body, '\0');
  Padded b(body, '"');
  rpc::RequestView request;
  const absl::Status status = parser.ParseRequest(a.view, &request);
  rpc::RequestView again;
  const absl::Status status_b = parser.ParseRequest(b.view, &again);
  FUZZ_CHECK(status.code() == status_b.code());
  if (!status.ok()) {
    FUZZ_CHECK(absl::IsDataLoss(status) || absl::IsInvalidArgument(status));
    return;
  }
  FUZZ_CHECK(again.method == request.method);
  FUZZ_CHECK(again.id_json == request.id_json);
  FUZZ_CHECK(again.args == request.args);
  FUZZ_CHECK(again.kwargs == request.kwargs);
  FUZZ_CHECK(Inside(request.id_json, a.view));
  FUZZ_CHECK(Inside(request.args, a.view));
  FUZZ_CHECK(Inside(request.kwargs, a.view));
  FUZZ_CHECK(Wrapped(request.id_json, '"', '"'));
  FUZZ_CHECK(Wrapped(request.args, '[', ']'));
  FUZZ_CHECK(Wrapped(request.kwargs, '{', '}'));
  FUZZ_CHECK(IsJsonValue(request.args));
  FUZZ_CHECK(IsJsonValue(request.kwargs));
  std::string id;
  FUZZ_CHECK(ReadJsonString(request.id_json, &id));
  CheckElement(body, 0, request.id_json);
  CheckElement(body, 2, request.args);
  CheckElement(body, 3, request.kwargs);

  // The server answers with the id spliced verbatim; the client must read
  // back the same id and result.
  const std::string response =
      absl::StrCat("[", request.id_json, ",", request.args, ",null]");
  Padded r(response, '\0');
  rpc::ResponseView view;
  const absl::Status read_back = parser.ParseResponse(r.view, &view);
  FUZZ_CHECK(read_back.ok());
  FUZZ_CHECK(view.id == id);
  FUZZ_CHECK(view.result == request.args);
  FUZZ_CHECK(view.error.ok());

  // The same request as our client writes it parses to the same fields.
  const std::string method_json = rpc::JsonString(request.method);
  const std::string rebuilt =
      absl::StrCat("[", request.id_json, ",", method_json, ",", request.args,
                   ",", request.kwargs, "]");
  Padded c(rebuilt, '\0');
  rpc::RequestView rebuilt_view;
  FUZZ_CHECK(parser.ParseRequest(c.view, &rebuilt_view).ok());
  FUZZ_CHECK(rebuilt_view.method == request.method);
}

void CheckResponse(rpc::EnvelopeParser& parser, absl::string_view body) {
  Padded a(body, '\0');
  Padded b(body, ']');
  rpc::ResponseView response;
  const absl::Status status = parser.ParseResponse(a.view, &response);
  rpc::ResponseView again;
  const absl::Status status_b = parser.ParseResponse(b.view, &again);
  FUZZ_CHECK(status.code() == status_b.code());
  if (!status.ok()) {
    FUZZ_CHECK(absl::IsDataLoss(status) || absl::IsInvalidArgument(status));
    return;
  }
  FUZZ_CHECK(again.id == response.id);
  FUZZ_CHECK(again.result == response.result);
  FUZZ_CHECK(again.error == response.error);
  FUZZ_CHECK(Inside(response.result, a.view));
  FUZZ_CHECK(IsJsonValue(response.result));
  CheckElement(body, 1, response.result);
}

void CheckErrorCodec(FuzzInput& input) {
  const absl::string_view text = input.ConsumeUntil(std::string(1, '\0'));
  // Whatever a peer sends as `error` maps to some status without crashing;
  // only null and false mean success.
  const absl::Status from_peer = rpc::ErrorFromJson(text);
  if (from_peer.ok()) FUZZ_CHECK(text == "null" || text == "false");

  const std::string quoted = rpc::JsonString(text);
  std::string unquoted;
  FUZZ_CHECK(ReadJsonString(quoted, &unquoted));
  const bool valid_utf8 = simdjson::validate_utf8(text.data(), text.size());
  if (valid_utf8) FUZZ_CHECK(unquoted == text);

  const auto code = static_cast<absl::StatusCode>(1 + input.ConsumeByte() % 16);
  const absl::Status error(code, text);
  const std::string error_json = rpc::ErrorJson(error);
  FUZZ_CHECK(IsJsonValue(error_json));
  const absl::Status back = rpc::ErrorFromJson(error_json);
  FUZZ_CHECK(back.code() == code);
  if (valid_utf8) FUZZ_CHECK(back.message() == text);
}

void Run(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const uint8_t mode = input.ConsumeByte();
  // Parsers are reused across inputs, as servers reuse theirs per thread,
  // so buffers grown by one input and shrunk by another are exercised.
  rpc::EnvelopeParser& parser =
      rpc::EnvelopeParser::ThreadLocal(kDepths[(mode >> 2) % 4]);
  switch (mode & 3) {
    case 0:
      CheckRequest(parser, input.ConsumeRemaining());
      break;
    case 1:
      CheckResponse(parser, input.ConsumeRemaining());
      break;
    case 2:
      CheckErrorCodec(input);
      break;
    default: {
      const absl::string_view body = input.ConsumeRemaining();
      CheckRequest(parser, body);
      CheckResponse(parser, body);
    }
  }
}

}  // namespace
}  // namespace zen::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zen::fuzz::Run(data, size);
  return 0;
}
