#include "tools/rpc_cli/builtin_handlers.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "ipc/frame.h"
#include "rpc/json_writer.h"
#include "simdjson.h"

namespace zen::rpc_cli {
namespace {

namespace ondemand = simdjson::ondemand;

// Raw JSON views from ServerCall have ipc::kFramePadding readable bytes
// after them, so they are parsed in place.
struct Parsed {
  ondemand::parser parser;
  ondemand::document doc;
  bool Parse(absl::string_view json) {
    return !parser
                .iterate(json.data(), json.size(),
                         json.size() + ipc::kFramePadding)
                .get(doc);
  }
};

// The raw text of the first positional argument, if any.
std::optional<std::string> FirstArg(absl::string_view args) {
  Parsed p;
  if (!p.Parse(args)) return std::nullopt;
  ondemand::array array;
  if (p.doc.get_array().get(array)) return std::nullopt;
  for (auto element : array) {
    ondemand::value v;
    if (element.get(v)) return std::nullopt;
    std::string_view raw;
    ondemand::json_type type;
    if (v.type().get(type)) return std::nullopt;
    if (type == ondemand::json_type::array) {
      ondemand::array a;
      if (v.get_array().get(a) || a.raw_json().get(raw)) return std::nullopt;
    } else if (type == ondemand::json_type::object) {
      ondemand::object o;
      if (v.get_object().get(o) || o.raw_json().get(raw)) return std::nullopt;
    } else {
      raw = v.raw_json_token();
    }
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' ||
                            raw.back() == '\t' || raw.back() == '\r')) {
      raw.remove_suffix(1);
    }
    return std::string(raw);
  }
  return std::nullopt;
}

std::optional<double> NumberArg(absl::string_view json, const char* key) {
  Parsed p;
  if (!p.Parse(json)) return std::nullopt;
  double value;
  if (key == nullptr) {
    ondemand::array array;
    if (p.doc.get_array().get(array)) return std::nullopt;
    for (auto element : array) {
      if (element.get_double().get(value)) return std::nullopt;
      return value;
    }
    return std::nullopt;
  }
  ondemand::object object;
  if (p.doc.get_object().get(object)) return std::nullopt;
  if (object.find_field_unordered(key).get_double().get(value))
    return std::nullopt;
  return value;
}

std::string NumberJson(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v))) {
    return absl::StrCat(static_cast<int64_t>(v));
  }
  return absl::StrCat(v);
}

}  // namespace

void RegisterBuiltinHandlers(rpc::Server* server) {
  server->RegisterHandler("echo", [](rpc::ServerCall& call) {
    std::optional<std::string> first = FirstArg(call.args());
    call.Respond(first ? *first : std::string(call.kwargs()));
    return absl::OkStatus();
  });
  server->RegisterHandler("add", [](rpc::ServerCall& call) -> absl::Status {
    std::optional<double> a = NumberArg(call.kwargs(), "a");
    std::optional<double> b = NumberArg(call.kwargs(), "b");
    if (a && b) {
      call.Respond(NumberJson(*a + *b));
      return absl::OkStatus();
    }
    Parsed p;
    if (!p.Parse(call.args())) return absl::InvalidArgumentError("bad args");
    ondemand::array array;
    if (p.doc.get_array().get(array))
      return absl::InvalidArgumentError("bad args");
    double sum = 0;
    for (auto element : array) {
      double v;
      if (element.get_double().get(v)) {
        return absl::InvalidArgumentError("add takes numbers");
      }
      sum += v;
    }
    call.Respond(NumberJson(sum));
    return absl::OkStatus();
  });
  server->RegisterHandler(
      "fail", [](rpc::ServerCall&) { return absl::UnknownError("boom"); });
  server->RegisterHandler("slow", [](rpc::ServerCall& call) {
    std::optional<double> seconds = NumberArg(call.kwargs(), "seconds");
    if (!seconds) seconds = NumberArg(call.args(), nullptr);
    const absl::Time until = zen::Now() + absl::Seconds(seconds.value_or(0));
    // Sleep in slices so a stopping server is not held up for long.
    while (zen::Now() < until && !call.cancelled()) {
      zen::SleepFor(std::min(absl::Milliseconds(10), until - zen::Now()));
    }
    call.Respond("\"done\"");
    return absl::OkStatus();
  });
  server->RegisterHandler("early", [](rpc::ServerCall& call) {
    call.Respond("\"ok\"");
    zen::SleepFor(absl::Milliseconds(200));
    return absl::OkStatus();
  });
  server->RegisterHandler("ping",
                          [](rpc::ServerCall&) { return absl::OkStatus(); });
  server->RegisterHandler("noop",
                          [](rpc::ServerCall&) { return absl::OkStatus(); });
  server->RegisterHandler("repeat", [](rpc::ServerCall& call) {
    call.Respond("\"first\"");
    call.Respond("\"second\"");
    return absl::OkStatus();
  });
  server->RegisterHandler("risky", [](rpc::ServerCall& call) {
    call.Respond("\"safe result\"");
    return absl::InternalError("failed after responding");
  });
  server->RegisterHandler("big", [](rpc::ServerCall& call) {
    std::optional<double> n = NumberArg(call.kwargs(), "n");
    if (!n) n = NumberArg(call.args(), nullptr);
    const size_t count = static_cast<size_t>(std::max(0.0, n.value_or(0)));
    std::string result;
    result.reserve(count + 2);
    result.push_back('"');
    result.append(count, 'x');
    result.push_back('"');
    call.Respond(result);
    return absl::OkStatus();
  });
}

}  // namespace zen::rpc_cli
