#include "agent/call_metrics.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "base/log.h"

namespace zen {
namespace {

constexpr absl::string_view kReportMethod = "report_metrics";

bool IsReportableName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(absl::ascii_isalnum(c) || c == '_' || c == '.' || c == ':' ||
          c == '/' || c == '-')) {
      return false;
    }
  }
  return true;
}

// `from` as counts; false if it is not what a worker can have counted.
bool CountsFromProto(const agent::MethodMetrics& from, rpc::MethodCounts* to) {
  if (static_cast<size_t>(from.buckets_size()) > rpc::kLatencyBuckets ||
      static_cast<size_t>(from.codes_size()) > rpc::kStatusCodes) {
    return false;
  }
  uint64_t calls = 0, coded = 0;
  for (int i = 0; i < from.buckets_size(); ++i) {
    to->buckets[i] = from.buckets(i);
    if (__builtin_add_overflow(calls, from.buckets(i), &calls)) return false;
  }
  for (int i = 0; i < from.codes_size(); ++i) {
    to->codes[i] = from.codes(i);
    if (__builtin_add_overflow(coded, from.codes(i), &coded)) return false;
  }
  to->latency_sum_nanos = from.latency_sum_ns();
  return calls == coded;
}

// `sum` += `add`, unless a count would overflow (then false, unchanged).
bool AddChecked(const rpc::MethodCounts& add, rpc::MethodCounts* sum) {
  rpc::MethodCounts out = *sum;
  for (size_t i = 0; i < rpc::kLatencyBuckets; ++i) {
    if (__builtin_add_overflow(out.buckets[i], add.buckets[i],
                               &out.buckets[i])) {
      return false;
    }
  }
  for (size_t i = 0; i < rpc::kStatusCodes; ++i) {
    if (__builtin_add_overflow(out.codes[i], add.codes[i], &out.codes[i])) {
      return false;
    }
  }
  if (__builtin_add_overflow(out.latency_sum_nanos, add.latency_sum_nanos,
                             &out.latency_sum_nanos)) {
    return false;
  }
  // A total past 2^53 would print inexactly; no real worker gets there.
  if (out.calls() > (uint64_t{1} << 53)) return false;
  *sum = out;
  return true;
}

}  // namespace

void MethodCountsToProto(absl::string_view method,
                         const rpc::MethodCounts& counts,
                         agent::MethodMetrics* out) {
  out->set_method(std::string(method));
  for (uint64_t b : counts.buckets) out->add_buckets(b);
  size_t codes = rpc::kStatusCodes;
  while (codes > 0 && counts.codes[codes - 1] == 0) --codes;
  for (size_t i = 0; i < codes; ++i) out->add_codes(counts.codes[i]);
  out->set_latency_sum_ns(counts.latency_sum_nanos);
}

absl::Status MetricsReporter::Report(const std::vector<rpc::Channel*>& channels,
                                     agent::WorkerAgent::Stub stub,
                                     absl::Duration timeout) {
  if (refused_) return absl::OkStatus();
  rpc::MetricsSnapshot now;
  for (rpc::Channel* channel : channels) {
    rpc::AddSnapshot(channel->method_metrics(), &now);
  }
  agent::ReportMetricsRequest request;
  bool news = false;  // Beyond the last report itself.
  for (const auto& [method, counts] : now) {
    auto before = reported_.find(method);
    const rpc::MethodCounts delta =
        before == reported_.end() ? counts : counts.Since(before->second);
    if (delta.empty()) continue;
    MethodCountsToProto(method, delta, request.add_methods());
    news = news || method != kReportMethod;
  }
  // A quiet worker does not report its last report alone at every flush:
  // that call waits for the next report with news.
  if (!news) return absl::OkStatus();
  absl::StatusOr<agent::ReportMetricsResponse> sent =
      stub.ReportMetrics(request, rpc::CallOptions::WithTimeout(timeout));
  if (sent.ok()) {
    reported_ = std::move(now);
    return absl::OkStatus();
  }
  if (absl::IsUnimplemented(sent.status())) {
    LogInfo("parent does not take report_metrics (", sent.status().message(),
            "): metrics stay in this worker");
    refused_ = true;
    return absl::OkStatus();
  }
  return sent.status();
}

void WorkerMetrics::Add(const agent::ReportMetricsRequest& report) {
  MutexLock lock(&mu_);
  ++reports_;
  for (const agent::MethodMetrics& entry : report.methods()) {
    rpc::MethodCounts counts;
    if (!CountsFromProto(entry, &counts)) {
      ++rejected_;
      continue;
    }
    absl::string_view name = entry.method();
    if (!IsReportableName(name) || (sums_.find(name) == sums_.end() &&
                                    sums_.size() >= options_.max_methods)) {
      name = kOtherMethod;
    }
    auto it = sums_.find(name);
    if (it == sums_.end())
      it = sums_.emplace(std::string(name), rpc::MethodCounts()).first;
    if (!AddChecked(counts, &it->second)) ++rejected_;
  }
}

rpc::MetricsSnapshot WorkerMetrics::Sum() const {
  MutexLock lock(&mu_);
  return sums_;
}

uint64_t WorkerMetrics::reports() const {
  MutexLock lock(&mu_);
  return reports_;
}

uint64_t WorkerMetrics::rejected() const {
  MutexLock lock(&mu_);
  return rejected_;
}

}  // namespace zen
