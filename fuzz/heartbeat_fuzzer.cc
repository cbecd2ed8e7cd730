// Fuzzes the heartbeat path in the parent: route schemas as workers send
// them (ApiSchema::FromJson, then Merge as the collector merges a route's
// samples) and the heartbeat document written over a Collector fed with
// them and with arbitrary names.
//
// Input: a name (used as sink name and kind, user id and name, hostname,
// method, path and user-agent key), then up to four schema samples, all
// separated by "\n--\n". Checked:
// * FromJson fails only with INVALID_ARGUMENT or RESOURCE_EXHAUSTED;
// * a sample it accepts writes valid JSON that parses back and writes the
//   same text again;
// * the collector merges a route's samples exactly as Merge does by hand,
//   and counts the rejected ones;
// * HeartbeatJson always writes one valid JSON object, whatever the names
//   (invalid UTF-8 and control characters included), and under a byte
//   budget no longer than the budget.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "agent/model/api_schema.h"
#include "agent/model/collector.h"
#include "agent/model/heartbeat.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"

namespace zen::fuzz {
namespace {

constexpr absl::string_view kSeparator = "\n--\n";
constexpr size_t kMaxSamples = 4;

bool IsJsonObject(const std::string& text) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(text);
  simdjson::dom::element root;
  return parser.parse(padded).get(root) == simdjson::SUCCESS &&
         root.type() == simdjson::dom::element_type::OBJECT;
}

void CheckSample(absl::string_view text, ApiSchema* merged,
                 uint64_t* rejected) {
  if (text.empty()) return;  // a route event without a schema
  absl::StatusOr<ApiSchema> sample = ApiSchema::FromJson(text);
  if (!sample.ok()) {
    FUZZ_CHECK(sample.status().code() == absl::StatusCode::kInvalidArgument ||
               sample.status().code() == absl::StatusCode::kResourceExhausted);
    ++*rejected;
    return;
  }
  const std::string written = sample->ToJson();
  FUZZ_CHECK(IsJsonObject(written));
  absl::StatusOr<ApiSchema> again = ApiSchema::FromJson(written);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->ToJson() == written);
  merged->Merge(*sample);
  FUZZ_CHECK(IsJsonObject(merged->ToJson()));
}

void Run(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const std::string name(input.ConsumeUntil(kSeparator));
  std::vector<std::string> samples;
  while (input.remaining() > 0 && samples.size() < kMaxSamples) {
    samples.emplace_back(input.ConsumeUntil(kSeparator));
  }

  ApiSchema merged;
  uint64_t rejected = 0;
  for (const std::string& sample : samples) {
    CheckSample(sample, &merged, &rejected);
  }

  CollectorOptions options;
  options.clock = [] { return absl::FromUnixSeconds(1700000000); };
  options.api_schema_max_samples = kMaxSamples;
  Collector collector(options);
  std::vector<CollectorEvent> events;
  for (const std::string& sample : samples) {
    CollectorEvent route;
    route.type = CollectorEventType::kRoute;
    route.method = name.empty() ? "GET" : name;
    route.path = name.empty() ? "/" : name;
    route.schema_json = sample;
    events.push_back(route);
  }
  CollectorEvent scan;
  scan.type = CollectorEventType::kScan;
  scan.sink_name = name.empty() ? "pg" : name;
  scan.sink_kind = name;
  scan.duration = absl::Microseconds(static_cast<int64_t>(size));
  events.push_back(scan);
  CollectorEvent user;
  user.type = CollectorEventType::kUser;
  user.user_id = name.empty() ? "u" : name;
  user.user_name = name;
  user.ip_address = name;
  user.timestamp_ms = static_cast<int64_t>(size) * 1001;
  events.push_back(user);
  CollectorEvent host;
  host.type = CollectorEventType::kOutbound;
  host.hostname = name.empty() ? "h" : name;
  host.port = static_cast<int>(size % 65536);
  events.push_back(host);
  CollectorEvent agent;
  agent.type = CollectorEventType::kUserAgent;
  agent.keys = {name};
  events.push_back(agent);
  collector.RecordBatch(events);

  const CollectorStats stats = collector.Flush();
  FUZZ_CHECK(stats.invalid_schemas == rejected);
  FUZZ_CHECK(stats.routes.size() == (samples.empty() ? 0u : 1u));
  if (!samples.empty()) {
    FUZZ_CHECK(stats.routes[0].schema.ToJson() == merged.ToJson());
  }

  HeartbeatOptions heartbeat_options;
  heartbeat_options.agent_json =
      absl::StrCat("{\"n\":", samples.empty() ? "0" : "1", "}");
  absl::StatusOr<std::string> document =
      HeartbeatJson(stats, heartbeat_options);
  FUZZ_CHECK(document.ok());
  FUZZ_CHECK(IsJsonObject(*document));

  // Under a budget the input picks, the document is still one JSON object,
  // and no longer than the budget.
  heartbeat_options.max_bytes = kHeartbeatFixedBytes +
                                heartbeat_options.agent_json.size() +
                                size * 7 % 4096;
  uint64_t left_out = 0;
  document = HeartbeatJson(stats, heartbeat_options, &left_out);
  FUZZ_CHECK(document.ok());
  FUZZ_CHECK(IsJsonObject(*document));
  FUZZ_CHECK(document->size() <= heartbeat_options.max_bytes);
}

}  // namespace
}  // namespace zen::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zen::fuzz::Run(data, size);
  return 0;
}
