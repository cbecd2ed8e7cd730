// The C ABI: what a process asks or reports per request (any process).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/event_conversion.h"
#include "base/status_macros.h"
#include "capi/handle.h"
#include "capi/impl.h"
#include "codegen_runtime/message_json.h"
#include "rpc/json_writer.h"

using zen::capi::Guarded;
using zen::capi::ReadText;

namespace {

void ClearRateLimit(zen_rate_limit* result) {
  if (result != nullptr) *result = zen_rate_limit{};
}

std::string SamplesJson(const std::vector<zen::AttackWaveSample>& samples) {
  std::string json = "[";
  for (const zen::AttackWaveSample& sample : samples) {
    if (json.size() > 1) json += ',';
    json += "{\"method\":";
    zen::rpc::AppendJsonString(&json, sample.method);
    json += ",\"url\":";
    zen::rpc::AppendJsonString(&json, sample.url);
    json += '}';
  }
  json += ']';
  return json;
}

}  // namespace

extern "C" {

zen_status zen_impl_agent_rate_limit(zen_agent* agent, const char* method,
                                     size_t method_len, const char* route,
                                     size_t route_len, const char* ip,
                                     size_t ip_len, const char* actor_id,
                                     size_t actor_id_len,
                                     zen_rate_limit* result, char** message) {
  ClearRateLimit(result);
  return Guarded(message, [&]() -> absl::Status {
    if (result == nullptr) {
      return absl::InvalidArgumentError("result is NULL");
    }
    absl::string_view method_text, route_text, ip_text, actor_text;
    ZEN_RETURN_IF_ERROR(ReadText(method, method_len, "method", &method_text));
    ZEN_RETURN_IF_ERROR(ReadText(route, route_len, "route", &route_text));
    ZEN_RETURN_IF_ERROR(ReadText(ip, ip_len, "ip", &ip_text));
    ZEN_RETURN_IF_ERROR(
        ReadText(actor_id, actor_id_len, "actor_id", &actor_text));
    zen::AgentClient* client = nullptr;
    ZEN_RETURN_IF_ERROR(zen::capi::ClientOf(agent, &client));
    std::optional<absl::string_view> actor;
    if (actor_id != nullptr) actor = actor_text;
    const zen::RateLimitAnswer answer = client->CalculateRateLimits(
        zen::RouteKey{std::string(method_text), std::string(route_text)},
        ip_text, actor);
    if (!answer.result.has_value()) return absl::OkStatus();
    const zen::RateLimitResult& r = *answer.result;
    zen_rate_limit out{};
    out.applies = 1;
    out.throttled = r.throttled ? 1 : 0;
    out.from_parent = answer.from_parent ? 1 : 0;
    out.time_remaining_seconds = r.time_remaining_seconds;
    out.time_remaining_ms = r.time_remaining_ms;
    out.current_requests = r.current_requests;
    out.max_requests = r.max_requests;
    out.discriminator = zen::capi::CopyOut(r.discriminator);
    if (out.discriminator == nullptr) {
      return absl::ResourceExhaustedError("out of memory");
    }
    out.discriminator_len = r.discriminator.size();
    *result = out;
    return absl::OkStatus();
  });
}

zen_status zen_impl_agent_record_attack_wave(
    zen_agent* agent, const char* ip, size_t ip_len, const char* method,
    size_t method_len, const char* path, size_t path_len,
    char** samples_json_out, size_t* samples_json_len, int32_t* from_parent,
    char** message) {
  zen::capi::ClearOut(samples_json_out, samples_json_len);
  if (from_parent != nullptr) *from_parent = 0;
  return Guarded(message, [&]() -> absl::Status {
    if (samples_json_out == nullptr) {
      return absl::InvalidArgumentError("samples_json_out is NULL");
    }
    absl::string_view ip_text, method_text, path_text;
    ZEN_RETURN_IF_ERROR(ReadText(ip, ip_len, "ip", &ip_text));
    ZEN_RETURN_IF_ERROR(ReadText(method, method_len, "method", &method_text));
    ZEN_RETURN_IF_ERROR(ReadText(path, path_len, "path", &path_text));
    zen::AgentClient* client = nullptr;
    ZEN_RETURN_IF_ERROR(zen::capi::ClientOf(agent, &client));
    const zen::AttackWaveAnswer answer =
        client->RecordAttackWave(ip_text, method_text, path_text);
    if (from_parent != nullptr) *from_parent = answer.from_parent ? 1 : 0;
    if (!answer.samples.has_value()) return absl::OkStatus();
    return zen::capi::SetOut(SamplesJson(*answer.samples), samples_json_out,
                             samples_json_len);
  });
}

zen_status zen_impl_agent_track(zen_agent* agent, const char* events_json,
                                size_t events_json_len, char** message) {
  return Guarded(message, [&]() -> absl::Status {
    absl::string_view text;
    ZEN_RETURN_IF_ERROR(
        ReadText(events_json, events_json_len, "events_json", &text));
    if (absl::Status s =
            zen::codegen_runtime::ValidateJsonValue(text, /*padded=*/false);
        !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("events_json is not JSON: ", s.message()));
    }
    const absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(text);
    std::string array;
    if (!trimmed.empty() && trimmed.front() == '{') {
      array = absl::StrCat("[", text, "]");
    } else if (!trimmed.empty() && trimmed.front() == '[') {
      array = std::string(text);
    } else {
      return absl::InvalidArgumentError(
          "events_json must be an event object or an array of them");
    }
    absl::StatusOr<zen::DecodedEvents> decoded = zen::DecodeEventsJson(array);
    if (!decoded.ok()) return decoded.status();
    if (decoded->unknown_type != 0 || decoded->undecodable != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "events_json: ", decoded->unknown_type,
          " event(s) of an unknown type and ", decoded->undecodable,
          " not of an event's shape (docs/protocol.md lists the types and "
          "their keys); none of this call's events was recorded"));
    }
    zen::AgentClient* client = nullptr;
    ZEN_RETURN_IF_ERROR(zen::capi::ClientOf(agent, &client));
    for (zen::CollectorEvent& event : decoded->events) {
      client->RecordEvent(std::move(event));
    }
    return absl::OkStatus();
  });
}

zen_status zen_impl_agent_flush(zen_agent* agent, char** message) {
  return Guarded(message, [&]() -> absl::Status {
    zen::AgentClient* client = nullptr;
    ZEN_RETURN_IF_ERROR(zen::capi::ClientOf(agent, &client));
    return client->Flush();
  });
}

}  // extern "C"
