#include "agent/model/heartbeat.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/model/json_fields.h"
#include "rpc/json_writer.h"

namespace zen {
namespace {

// The agent block is the host's own; this only keeps a mistake from making
// the whole document invalid.
constexpr size_t kMaxAgentJsonBytes = 64 * 1024;

// Ruby's `time.to_i * 1000`: whole seconds (floored), in ms. Saturates
// instead of overflowing for times beyond year 292 million.
int64_t SecondsAsMs(absl::Time time) {
  constexpr int64_t kLimit = std::numeric_limits<int64_t>::max() / 1000;
  return std::clamp<int64_t>(absl::ToUnixSeconds(time), -kLimit, kLimit) * 1000;
}

// An actor's times travel as ms and the reference's parent reads them with
// `Time.at(ms / 1000)` (Integer division, floored) before writing
// `to_i * 1000`.
int64_t MsTruncatedToSeconds(int64_t ms) {
  int64_t seconds = ms / 1000;
  if (ms % 1000 != 0 && ms < 0) --seconds;
  return seconds * 1000;
}

// A Float as Ruby's Float#to_s (so JSON.dump) writes it (flo_to_s in
// Ruby's numeric.c): the shortest digits that read back the same, in fixed
// notation with at least one fraction digit ("1234.5", "2.0", "0.0005")
// when the point falls among the digits, or the value is whole and has at
// most 15 digits, or it is below 1 with at most 3 zeros after the point;
// otherwise as "d.ddde[+-]XX" ("1.0e-05", "1.0e+16"). Non-finite values, which
// JSON cannot hold (the reference fails to write them), are written as null.
void AppendRubyFloat(std::string* out, double value) {
  if (!std::isfinite(value)) {
    out->append("null");
    return;
  }
  char buffer[64];
  std::to_chars_result result = std::to_chars(
      buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  std::string text(buffer, result.ptr);  // "-d.ddde+XX"
  if (text[0] == '-') {
    out->push_back('-');
    text.erase(0, 1);
  }
  const size_t e = text.find('e');
  const int exponent = std::atoi(text.c_str() + e + 1);
  std::string digits = text.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  // value = 0.DIGITS * 10^decpt
  const int decpt = exponent + 1;
  const int count = static_cast<int>(digits.size());
  if (decpt > 0 && decpt < count) {
    out->append(digits, 0, decpt);
    out->push_back('.');
    out->append(digits, decpt, std::string::npos);
  } else if (decpt > 0 && decpt <= 15) {  // Ruby: decpt <= DBL_DIG
    out->append(digits);
    out->append(decpt - count, '0');
    out->append(".0");
  } else if (decpt <= 0 && decpt > -4) {
    out->append("0.");
    out->append(-decpt, '0');
    out->append(digits);
  } else {
    out->push_back(digits[0]);
    out->push_back('.');
    out->append(count > 1 ? digits.substr(1) : "0");
    char exponent_text[16];
    const int n = std::snprintf(exponent_text, sizeof(exponent_text), "e%+03d",
                                decpt - 1);
    out->append(exponent_text, n);
  }
}

// Writes one JSON object's members with the commas between them.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  ~ObjectWriter() { out_->push_back('}'); }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  // Writes the key and returns the output for the value to be appended.
  std::string* Key(absl::string_view key) {
    if (!first_) out_->push_back(',');
    first_ = false;
    rpc::AppendJsonString(out_, key);
    out_->push_back(':');
    return out_;
  }
  void Int(absl::string_view key, int64_t value) {
    absl::StrAppend(Key(key), value);
  }
  void Uint(absl::string_view key, uint64_t value) {
    absl::StrAppend(Key(key), value);
  }
  void Bool(absl::string_view key, bool value) {
    Key(key)->append(value ? "true" : "false");
  }
  void String(absl::string_view key, absl::string_view value) {
    rpc::AppendJsonString(Key(key), value);
  }
  void Float(absl::string_view key, double value) {
    AppendRubyFloat(Key(key), value);
  }
  // Writes `member`, a key and its value already written as JSON.
  void Member(absl::string_view member) {
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->append(member.data(), member.size());
  }

 private:
  std::string* const out_;
  bool first_ = true;
};

// One list's share of the document's bytes (HeartbeatOptions::max_bytes).
class SectionBudget {
 public:
  SectionBudget(size_t bytes, uint64_t* left_out)
      : left_(bytes), left_out_(left_out) {}

  // Whether an entry of `size` bytes (and the comma before it) still fits;
  // if so its bytes are taken, if not it is counted as left out.
  bool Take(size_t size) {
    if (size + 1 > left_) {
      ++*left_out_;
      return false;
    }
    left_ -= size + 1;
    return true;
  }

 private:
  size_t left_;
  uint64_t* const left_out_;
};

// Every list's share: see HeartbeatOptions::max_bytes.
struct Budgets {
  Budgets(size_t bytes, uint64_t* left_out)
      : operations(bytes / 32 * 8, left_out),
        user_agents(bytes / 32, left_out),
        ip_lists(bytes / 32, left_out),
        users(bytes / 32 * 4, left_out),
        routes(bytes / 32 * 14, left_out),
        hosts(bytes / 32 * 4, left_out) {}
  SectionBudget operations, user_agents, ip_lists, users, routes, hosts;
};

void AppendDetected(std::string* out, uint64_t total, uint64_t blocked) {
  ObjectWriter object(out);
  object.Uint("total", total);
  object.Uint("blocked", blocked);
}

// The reference's Hash of key -> count, written as an object.
void AppendBreakdown(std::string* out,
                     const std::vector<CollectorStats::KeyCount>& counts,
                     SectionBudget* budget) {
  ObjectWriter breakdown_holder(out);
  ObjectWriter breakdown(breakdown_holder.Key("breakdown"));
  // Least recently seen first, the nearest this list has to the reference's
  // insertion order (JSON object order carries no meaning).
  std::string member;
  for (auto it = counts.rbegin(); it != counts.rend(); ++it) {
    member.clear();
    rpc::AppendJsonString(&member, it->key);
    absl::StrAppend(&member, ":", it->count);
    if (budget->Take(member.size())) breakdown.Member(member);
  }
}

// collector/sink_stats.rb: SinkStats#as_json and CompressedTiming#as_json.
void AppendOperation(std::string* out, const CollectorStats::Sink& sink) {
  ObjectWriter op(out);
  if (sink.kind.empty()) {
    op.Key("kind")->append("null");  // the reference's nil kind
  } else {
    op.String("kind", sink.kind);
  }
  op.Uint("total", sink.scans);
  op.Uint("interceptorThrewError", sink.scans_with_errors);
  op.Int("withoutContext", 0);  // constant 0 in the reference
  AppendDetected(op.Key("attacksDetected"), sink.attacks_detected,
                 sink.attacks_blocked);
  std::string* list = op.Key("compressedTimings");
  list->push_back('[');
  for (size_t i = 0; i < sink.compressed_timings.size(); ++i) {
    const CollectorStats::CompressedTiming& timing = sink.compressed_timings[i];
    if (i > 0) list->push_back(',');
    ObjectWriter entry(list);
    entry.Float("averageInMs", timing.mean_seconds * 1000);
    {
      ObjectWriter percentiles(entry.Key("percentiles"));
      for (const auto& [p, seconds] : timing.percentiles_seconds) {
        percentiles.Float(absl::StrCat(p), seconds * 1000);
      }
    }
    entry.Int("compressedAt", SecondsAsMs(timing.compressed_at));
  }
  list->push_back(']');
}

// collector/stats.rb: Stats#as_json.
void AppendStats(std::string* out, const CollectorStats& stats,
                 Budgets* budgets) {
  ObjectWriter object(out);
  object.Int("startedAt", SecondsAsMs(stats.started_at));
  object.Int("endedAt", SecondsAsMs(stats.ended_at));
  {
    std::vector<const CollectorStats::Sink*> sinks;
    for (const CollectorStats::Sink& sink : stats.sinks) sinks.push_back(&sink);
    std::sort(sinks.begin(), sinks.end(), [](const auto* a, const auto* b) {
      return a->first_seen_order < b->first_seen_order;
    });
    ObjectWriter operations(object.Key("operations"));
    std::string member;
    for (const CollectorStats::Sink* sink : sinks) {
      member.clear();
      rpc::AppendJsonString(&member, sink->name);
      member.push_back(':');
      AppendOperation(&member, *sink);
      if (budgets->operations.Take(member.size())) operations.Member(member);
    }
  }
  {
    ObjectWriter requests(object.Key("requests"));
    requests.Uint("total", stats.requests);
    // Declared and written by the reference, never counted.
    requests.Int("aborted", 0);
    requests.Uint("rateLimited", stats.rate_limited_requests);
    // The reference sums its sinks' attacks; every attack it tracks names a
    // sink, so that equals the collector's own totals, which also hold
    // attacks without a sink and those of sinks evicted by the cap.
    AppendDetected(requests.Key("attacksDetected"), stats.attacks_detected,
                   stats.attacks_blocked);
    AppendDetected(requests.Key("attackWaves"), stats.attack_waves_detected,
                   stats.attack_waves_blocked);
  }
  AppendBreakdown(object.Key("userAgents"), stats.user_agents,
                  &budgets->user_agents);
  AppendBreakdown(object.Key("ipAddresses"), stats.ip_lists,
                  &budgets->ip_lists);
}

// Entries in the order they were first seen, as the reference's insertion-
// ordered collections list them.
template <typename Entry>
std::vector<const Entry*> InFirstSeenOrder(const std::vector<Entry>& entries) {
  std::vector<const Entry*> sorted;
  sorted.reserve(entries.size());
  for (const Entry& entry : entries) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) {
    return a->first_seen_order < b->first_seen_order;
  });
  return sorted;
}

template <typename Entry, typename Fn>
void AppendArray(std::string* out, const std::vector<Entry>& entries,
                 SectionBudget* budget, Fn fn) {
  out->push_back('[');
  bool first = true;
  std::string element;
  for (const Entry* entry : InFirstSeenOrder(entries)) {
    element.clear();
    {
      ObjectWriter object(&element);
      fn(&object, *entry);
    }
    if (!budget->Take(element.size())) continue;
    if (!first) out->push_back(',');
    first = false;
    out->append(element);
  }
  out->push_back(']');
}

}  // namespace

absl::StatusOr<std::string> HeartbeatJson(const CollectorStats& stats,
                                          const HeartbeatOptions& options,
                                          uint64_t* entries_left_out) {
  if (!options.agent_json.empty()) {
    simdjson::dom::parser parser;
    absl::StatusOr<simdjson::dom::element> agent = json_fields::ParseDocument(
        &parser, options.agent_json, "agent block", kMaxAgentJsonBytes);
    if (!agent.ok())
      return absl::InvalidArgumentError(agent.status().message());
    if (agent->type() != simdjson::dom::element_type::OBJECT) {
      return absl::InvalidArgumentError("agent block: not a JSON object");
    }
  }

  const size_t reserved = options.agent_json.size() + kHeartbeatFixedBytes;
  uint64_t left_out = 0;
  Budgets budgets(
      options.max_bytes > reserved ? options.max_bytes - reserved : 0,
      &left_out);
  std::string out;
  {
    ObjectWriter heartbeat(&out);
    heartbeat.String("type", "heartbeat");
    heartbeat.Int("time", SecondsAsMs(options.time.value_or(stats.ended_at)));
    if (!options.agent_json.empty()) {
      heartbeat.Key("agent")->append(options.agent_json);
    }
    AppendStats(heartbeat.Key("stats"), stats, &budgets);

    // collector/users.rb and actor.rb: Actor#as_json, nil fields left out.
    AppendArray(heartbeat.Key("users"), stats.users, &budgets.users,
                [](ObjectWriter* user, const CollectorStats::User& u) {
                  user->String("id", u.id);
                  if (!u.name.empty()) user->String("name", u.name);
                  if (!u.last_ip_address.empty()) {
                    user->String("lastIpAddress", u.last_ip_address);
                  }
                  user->Int("firstSeenAt",
                            MsTruncatedToSeconds(u.first_seen_ms));
                  user->Int("lastSeenAt", MsTruncatedToSeconds(u.last_seen_ms));
                });

    // collector/routes.rb: Routes#as_json; "apispec" left out while the
    // route has no schema (the reference's EMPTY_SCHEMA writes nil).
    AppendArray(heartbeat.Key("routes"), stats.routes, &budgets.routes,
                [](ObjectWriter* route, const CollectorStats::Route& r) {
                  route->String("method", r.method);
                  route->String("path", r.path);
                  route->Uint("hits", r.hits);
                  if (!r.schema.empty()) {
                    route->Key("apispec")->append(r.schema.ToJson());
                  }
                });

    // collector/hosts.rb and outbound_connection.rb: {hostname, port, hits};
    // port 0 (unknown) is left out as the reference leaves out a nil port.
    AppendArray(heartbeat.Key("hostnames"), stats.hosts, &budgets.hosts,
                [](ObjectWriter* host, const CollectorStats::Host& h) {
                  host->String("hostname", h.hostname);
                  if (h.port != 0) host->Int("port", h.port);
                  host->Uint("hits", h.hits);
                });

    heartbeat.Bool("middlewareInstalled", stats.middleware_installed);
  }
  if (entries_left_out != nullptr) *entries_left_out += left_out;
  return out;
}

}  // namespace zen
