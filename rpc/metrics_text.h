// Prometheus' text exposition format (version 0.0.4) of per-method metrics:
// what a scrape of the agent's parent returns.
#ifndef ZEN_RPC_METRICS_TEXT_H_
#define ZEN_RPC_METRICS_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "rpc/method_metrics.h"

namespace zen::rpc {

// The media type a scrape of this text is served with.
inline constexpr absl::string_view kMetricsContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// True if `name` is a valid metric name: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsValidMetricName(absl::string_view name);

// Appends `value` escaped as a label value is between its quotes: `\` as
// `\\`, `"` as `\"`, a newline as `\n`; everything else as it is.
void AppendEscapedLabelValue(absl::string_view value, std::string* out);

// Appends nanoseconds as exact decimal seconds ("0.000123", "2").
void AppendNanosAsSeconds(uint64_t nanos, std::string* out);

// Appends three families for `snapshot`, each with its HELP and TYPE lines
// (also when it has no samples), one series per method, sorted by name:
//   <prefix>_calls_total{method}           counter, calls that ended
//   <prefix>_errors_total{method,code}     counter, calls that failed, by
//                                          status code (codes never seen
//                                          are left out)
//   <prefix>_latency_seconds{method}       histogram, kLatencyBoundsMicros
// `prefix` must be a valid metric name (else nothing is written); `whose`
// goes into the HELP text ("calls this server handled"). Method names are
// written as label values, escaped.
void AppendMethodMetrics(absl::string_view prefix, absl::string_view whose,
                         const MetricsSnapshot& snapshot, std::string* out);

}  // namespace zen::rpc

#endif  // ZEN_RPC_METRICS_TEXT_H_
