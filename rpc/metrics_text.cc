#include "rpc/metrics_text.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "rpc/status_codes.h"

namespace zen::rpc {
namespace {

// `# HELP` and `# TYPE` lines of one family.
void AppendHeader(absl::string_view name, absl::string_view type,
                  absl::string_view help, std::string* out) {
  // HELP text escapes only `\` and newline; ours has neither but `whose`.
  std::string escaped;
  for (char c : help) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  absl::StrAppend(out, "# HELP ", name, " ", escaped, "\n# TYPE ", name, " ",
                  type, "\n");
}

void AppendMethodLabel(absl::string_view method, std::string* out) {
  out->append("{method=\"");
  AppendEscapedLabelValue(method, out);
  out->append("\"");
}

}  // namespace

bool IsValidMetricName(absl::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = absl::ascii_isalpha(c) || c == '_' || c == ':' ||
                    (i > 0 && absl::ascii_isdigit(c));
    if (!ok) return false;
  }
  return true;
}

void AppendEscapedLabelValue(absl::string_view value, std::string* out) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

void AppendNanosAsSeconds(uint64_t nanos, std::string* out) {
  absl::StrAppend(out, nanos / 1000000000);
  uint64_t frac = nanos % 1000000000;
  if (frac == 0) return;
  char digits[10] = "000000000";
  for (int i = 8; i >= 0; --i, frac /= 10) digits[i] = '0' + frac % 10;
  int end = 9;
  while (digits[end - 1] == '0') --end;
  out->push_back('.');
  out->append(digits, end);
}

void AppendMethodMetrics(absl::string_view prefix, absl::string_view whose,
                         const MetricsSnapshot& snapshot, std::string* out) {
  if (!IsValidMetricName(prefix)) return;
  const std::string calls = absl::StrCat(prefix, "_calls_total");
  AppendHeader(calls, "counter", absl::StrCat("Calls ", whose, ", by method."),
               out);
  for (const auto& [method, counts] : snapshot) {
    out->append(calls);
    AppendMethodLabel(method, out);
    absl::StrAppend(out, "} ", counts.calls(), "\n");
  }

  const std::string errors = absl::StrCat(prefix, "_errors_total");
  AppendHeader(errors, "counter",
               absl::StrCat("Failed calls ", whose, ", by method and code."),
               out);
  for (const auto& [method, counts] : snapshot) {
    for (size_t code = 1; code < kStatusCodes; ++code) {
      if (counts.codes[code] == 0) continue;
      out->append(errors);
      AppendMethodLabel(method, out);
      absl::StrAppend(out, ",code=\"",
                      StatusCodeName(static_cast<absl::StatusCode>(code)),
                      "\"} ", counts.codes[code], "\n");
    }
  }

  const std::string latency = absl::StrCat(prefix, "_latency_seconds");
  AppendHeader(latency, "histogram",
               absl::StrCat("Latency of calls ", whose, ", by method."), out);
  for (const auto& [method, counts] : snapshot) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kLatencyBuckets; ++i) {
      cumulative += counts.buckets[i];
      absl::StrAppend(out, latency, "_bucket");
      AppendMethodLabel(method, out);
      out->append(",le=\"");
      if (i + 1 < kLatencyBuckets) {
        AppendNanosAsSeconds(
            static_cast<uint64_t>(kLatencyBoundsMicros[i]) * 1000, out);
      } else {
        out->append("+Inf");
      }
      absl::StrAppend(out, "\"} ", cumulative, "\n");
    }
    absl::StrAppend(out, latency, "_sum");
    AppendMethodLabel(method, out);
    out->append("} ");
    AppendNanosAsSeconds(counts.latency_sum_nanos, out);
    absl::StrAppend(out, "\n", latency, "_count");
    AppendMethodLabel(method, out);
    absl::StrAppend(out, "} ", cumulative, "\n");
  }
}

}  // namespace zen::rpc
