// Measures what the stubs' JSON layer adds to a call: the four conversions
// of one round trip (client encodes the request, server decodes it, server
// encodes the response, client decodes it), with protobuf's own JSON
// utilities alongside for comparison. Run it optimized:
//   bazel run -c opt //codegen_runtime:message_json_benchmark
#include <cstdio>
#include <functional>
#include <string>

#include "absl/time/time.h"
#include "base/clock.h"
#include "codegen_runtime/method_codec.h"
#include "codegen_runtime/padded_json.h"
#include "google/protobuf/util/json_util.h"
#include "proto/zen/agent/worker_agent.pb.h"

namespace zen::codegen_runtime {
namespace {

namespace pb = google::protobuf;

// Nanoseconds per call of `body`, over enough iterations to take ~0.3 s.
double Measure(const std::function<void()>& body) {
  for (int i = 0; i < 1000; ++i) body();  // Warm caches and parsers.
  int iterations = 1000;
  while (true) {
    const absl::Time start = zen::Now();
    for (int i = 0; i < iterations; ++i) body();
    const absl::Duration elapsed = zen::Now() - start;
    if (elapsed > absl::Milliseconds(300)) {
      return absl::ToDoubleNanoseconds(elapsed) / iterations;
    }
    iterations *= 2;
  }
}

void Report(const char* what, double ns) {
  std::printf("%-58s %8.0f ns\n", what, ns);
}

void Run() {
  MethodSpec rate_spec("calculate_rate_limits",
                       agent::CalculateRateLimitsRequest::descriptor(),
                       agent::CalculateRateLimitsResponse::descriptor());
  rate_spec.AddPositionalArg("route");
  rate_spec.AddPositionalArg("client_ip");
  rate_spec.AddPositionalArg("actor");
  rate_spec.SetNullWhenEmpty(true);
  const MethodCodec rate(rate_spec);

  agent::CalculateRateLimitsRequest request;
  request.mutable_route()->set_method("GET");
  request.mutable_route()->set_path("/api/users/:id");
  request.set_client_ip("203.0.113.7");
  request.mutable_actor()->set_id("user-42");
  request.mutable_actor()->set_last_seen_at(1700000000000);
  agent::CalculateRateLimitsResponse response;
  response.set_throttled(false);
  response.set_discriminator("203.0.113.7");
  response.set_current_requests(3);
  response.set_max_requests(100);
  response.set_time_remaining(42);

  std::string args, kwargs, result;
  (void)rate.EncodeRequest(request, &args, &kwargs);
  (void)rate.EncodeResult(response, &result);
  const PaddedJsonString padded_kwargs(kwargs), padded_result(result);
  const PaddedJsonString empty_args("[]");
  const PaddedJsonString positional_args(
      R"([{"method":"GET","path":"/api/users/:id"},"203.0.113.7",)"
      R"({"id":"user-42","lastSeenAt":1700000000000}])");
  const PaddedJsonString empty_kwargs("{}");
  std::printf("request  %s %s\nresult   %s\n\n", args.c_str(), kwargs.c_str(),
              result.c_str());

  std::string out;
  agent::CalculateRateLimitsRequest request_in;
  agent::CalculateRateLimitsResponse response_in;
  std::string out_kwargs;
  const PaddedJsonString padded_args(args);
  const double encode_request = Measure([&] {
    out.clear();
    out_kwargs.clear();
    (void)rate.EncodeRequest(request, &out, &out_kwargs);
  });
  const double decode_request = Measure([&] {
    (void)rate.DecodeRequest(padded_args.view(), padded_kwargs.view(),
                             &request_in);
  });
  const double encode_result = Measure([&] {
    out.clear();
    (void)rate.EncodeResult(response, &out);
  });
  const double decode_result = Measure(
      [&] { (void)rate.DecodeResult(padded_result.view(), &response_in); });
  Report("calculate_rate_limits: client encodes request", encode_request);
  Report("calculate_rate_limits: server decodes request", decode_request);
  Report("calculate_rate_limits: server encodes result", encode_result);
  Report("calculate_rate_limits: client decodes result", decode_result);
  Report("calculate_rate_limits: the four together",
         encode_request + decode_request + encode_result + decode_result);
  Report("calculate_rate_limits: server decodes positional args (Ruby)",
         Measure([&] {
           (void)rate.DecodeRequest(positional_args.view(), empty_kwargs.view(),
                                    &request_in);
         }));

  MethodSpec ping_spec("ping", agent::PingRequest::descriptor(),
                       agent::PingResponse::descriptor());
  ping_spec.SetNullWhenEmpty(true);
  const MethodCodec ping(ping_spec);
  const PaddedJsonString null_result("null");
  agent::PingRequest ping_request;
  agent::PingResponse ping_response;
  Report("ping: the four together", Measure([&] {
           out.clear();
           out_kwargs.clear();
           (void)ping.EncodeRequest(ping_request, &out, &out_kwargs);
           (void)ping.DecodeRequest(empty_args.view(), empty_kwargs.view(),
                                    &ping_request);
           out.clear();
           (void)ping.EncodeResult(ping_response, &out);
           (void)ping.DecodeResult(null_result.view(), &ping_response);
         }));

  // The same four conversions with protobuf's JSON utilities, for scale.
  pb::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  pb::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = true;
  Report("calculate_rate_limits: the four with protobuf's util", Measure([&] {
           out.clear();
           (void)pb::util::MessageToJsonString(request, &out, print);
           (void)pb::util::JsonStringToMessage(kwargs, &request_in, parse);
           out.clear();
           (void)pb::util::MessageToJsonString(response, &out, print);
           (void)pb::util::JsonStringToMessage(result, &response_in, parse);
         }));

  // updated_settings with a 64 KiB settings document, spliced both ways.
  MethodSpec settings_spec("updated_settings",
                           agent::UpdatedSettingsRequest::descriptor(),
                           agent::UpdatedSettingsResponse::descriptor());
  settings_spec.AddResponseRawJson("config");
  settings_spec.AddResponseRawJson("firewall_lists");
  const MethodCodec settings(settings_spec);
  std::string config = "{\"endpoints\":[";
  while (config.size() < 64 * 1024) {
    config += R"({"method":"POST","route":"/api/login","rateLimiting":)"
              R"({"enabled":true,"maxRequests":10,"windowSizeInMS":60000}},)";
  }
  config += R"({"method":"GET","route":"/"}],"block":true})";
  agent::UpdatedSettingsResponse settings_response;
  settings_response.set_config(config);
  settings_response.set_config_generation(7);
  std::string settings_result;
  (void)settings.EncodeResult(settings_response, &settings_result);
  const PaddedJsonString padded_settings(settings_result);
  Report("updated_settings, 64 KiB config: server encodes result", Measure([&] {
           out.clear();
           (void)settings.EncodeResult(settings_response, &out);
         }));
  Report("updated_settings, 64 KiB config: client decodes result", Measure([&] {
           (void)settings.DecodeResult(padded_settings.view(),
                                       &settings_response);
         }));
}

}  // namespace
}  // namespace zen::codegen_runtime

int main() {
  zen::codegen_runtime::Run();
  return 0;
}
