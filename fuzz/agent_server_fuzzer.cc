// Fuzzes the agent server's settings and events paths end to end: a real
// AgentServer, a child's Channel and generated Stub over an authenticated
// loopback connection.
//
// Input: one byte picks the path. Settings: a config or firewall-lists
// document as the parent's API client would hand it over (UpdateConfig /
// UpdateFirewallLists), then a child's `updated_settings`. Events: the
// `kwargs` (or positional `args`) of a child's `send_collector_events`.
// Checked:
// * the server accepts exactly the documents the children's parser accepts,
//   and after any update `updated_settings` succeeds, splices the cached
//   bytes unchanged, and parses in the child to the parent's settings; a
//   child that is up to date gets nothing;
// * an events call is acknowledged iff its request decodes (the events are
//   one JSON array), and then every event that decodes on its own and is of
//   a known type is counted exactly once (no loss, no double count),
//   nothing else is.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/agent_server.h"
#include "agent/event_conversion.h"
#include "agent/model/runtime_settings.h"
#include "agent/model/settings_cache.h"
#include "base/clock.h"
#include "base/log.h"
#include "codegen_runtime/padded_json.h"
#include "fuzz/agent_codecs.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "proto/zen/agent/worker_agent.pb.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/channel.h"
#include "rpc/envelope.h"
#include "testing/test_secret.h"

namespace zen::fuzz {
namespace {

struct Harness {
  Harness() : secret(testing::TestSecret()) {
    SetLogSink([](LogLevel, absl::string_view) {});
    server = *AgentServer::Create(&secret);
    FUZZ_CHECK(server->Start().ok());
    rpc::ChannelOptions options;
    options.connector.port = server->port();
    channel = *rpc::Channel::Create(&secret, options);
    stub = std::make_unique<agent::WorkerAgent::Stub>(channel.get());
  }
  ipc::Secret secret;
  std::unique_ptr<AgentServer> server;
  std::unique_ptr<rpc::Channel> channel;
  std::unique_ptr<agent::WorkerAgent::Stub> stub;
};

Harness& TheHarness() {
  static Harness* harness = new Harness;
  return *harness;
}

rpc::CallOptions Bounded() {
  rpc::CallOptions options = rpc::CallOptions::WithTimeout(absl::Seconds(5));
  options.wait_for_ready = true;  // After a dropped connection, reconnect.
  return options;
}

// What a request check observes of settings, as text.
std::string Observe(const RuntimeSettings& s) {
  return absl::StrCat(s.has_config(), s.has_firewall_lists(), s.block(), "|",
                      absl::FormatTime(s.config_updated_at()), "|",
                      absl::FormatDuration(s.heartbeat_interval()), "|",
                      s.IsIpAllowed("1.2.3.4"), s.IsIpBypassed("1.2.3.4"),
                      s.IsIpBlocked("1.2.3.4").has_value(),
                      s.IsUserAgentBlocked("bot"), s.IsUserBlocked("u1"));
}

// The text between JSON's leading and trailing whitespace (space, tab, CR,
// LF): a raw_json field carries the value, not the blanks around it.
absl::string_view TrimJson(absl::string_view text) {
  const auto blank = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

void FuzzSettings(Harness& h, bool config, absl::string_view doc) {
  const absl::Status updated =
      config ? h.server->UpdateConfig(std::string(doc))
             : h.server->UpdateFirewallLists(std::string(doc));
  const bool child_accepts = (config ? RuntimeSettings::Parse(doc, "")
                                     : RuntimeSettings::Parse("", doc))
                                 .ok();
  FUZZ_CHECK(updated.ok() == child_accepts);

  // A child that knows nothing gets both documents, as cached.
  absl::StatusOr<agent::UpdatedSettingsResponse> all =
      h.stub->UpdatedSettings(agent::UpdatedSettingsRequest(), Bounded());
  if (!all.ok()) {
    std::fprintf(stderr, "updated_settings failed: %s\n",
                 all.status().ToString().c_str());
  }
  FUZZ_CHECK(all.ok());
  const SettingsSnapshot cached = h.server->settings_cache().Snapshot();
  FUZZ_CHECK(all->has_config_generation() &&
             all->has_firewall_lists_generation());
  FUZZ_CHECK(static_cast<uint64_t>(all->config_generation()) ==
             cached.config_generation);
  FUZZ_CHECK(static_cast<uint64_t>(all->firewall_lists_generation()) ==
             cached.firewall_lists_generation);
  // The cached bytes, spliced as they are (blanks around the value aside).
  if (cached.config != nullptr) {
    FUZZ_CHECK(all->config() == TrimJson(*cached.config));
  }
  if (cached.firewall_lists != nullptr) {
    FUZZ_CHECK(all->firewall_lists() == TrimJson(*cached.firewall_lists));
  }
  if (updated.ok()) {
    // A blank document means "none yet" and is cached as `null` (F1).
    const absl::string_view expected =
        absl::StripAsciiWhitespace(doc).empty() ? "null" : TrimJson(doc);
    FUZZ_CHECK((config ? all->config() : all->firewall_lists()) == expected);
  }
  // Those bytes give the child the parent's settings.
  absl::StatusOr<RuntimeSettings> in_child =
      RuntimeSettings::Parse(all->config(), all->firewall_lists());
  FUZZ_CHECK(in_child.ok());
  FUZZ_CHECK(Observe(*in_child) == Observe(*h.server->settings()));

  // Up to date: nothing to send.
  agent::UpdatedSettingsRequest known;
  known.set_known_config_generation(all->config_generation());
  known.set_known_firewall_lists_generation(all->firewall_lists_generation());
  absl::StatusOr<agent::UpdatedSettingsResponse> none =
      h.stub->UpdatedSettings(known, Bounded());
  FUZZ_CHECK(none.ok());
  FUZZ_CHECK(!none->has_config_generation());
  FUZZ_CHECK(!none->has_firewall_lists_generation());
}

struct Totals {
  uint64_t requests = 0, rate_limited = 0, attacks = 0, attacks_blocked = 0,
           waves = 0, waves_blocked = 0;
  bool operator==(const Totals& o) const {
    return requests == o.requests && rate_limited == o.rate_limited &&
           attacks == o.attacks && attacks_blocked == o.attacks_blocked &&
           waves == o.waves && waves_blocked == o.waves_blocked;
  }
};

Totals Count(const CollectorStats& s) {
  return {s.requests,        s.rate_limited_requests, s.attacks_detected,
          s.attacks_blocked, s.attack_waves_detected, s.attack_waves_blocked};
}

void FuzzEvents(Harness& h, bool positional, absl::string_view text) {
  const std::string args = positional ? absl::StrCat("[", text, "]") : "[]";
  const std::string kwargs = positional ? "{}" : std::string(text);
  // Only well-formed envelopes: a malformed one just drops the connection
  // (the envelope fuzzer covers that).
  const codegen_runtime::PaddedJsonString frame(absl::StrCat(
      "[\"x\",\"send_collector_events\",", args, ",", kwargs, "]"));
  rpc::RequestView view;
  if (!rpc::EnvelopeParser(64).ParseRequest(frame.view().json(), &view).ok()) {
    return;
  }
  const AgentMethod& method = AgentMethodNamed("send_collector_events");
  agent::SendCollectorEventsRequest request;
  const codegen_runtime::PaddedJsonString padded_args(view.args);
  const codegen_runtime::PaddedJsonString padded_kwargs(view.kwargs);
  const bool decodes =
      method.codec
          ->DecodeRequest(padded_args.view(), padded_kwargs.view(), &request)
          .ok();
  Totals expected;
  std::vector<CollectorEvent> events;
  if (decodes && !request.events().empty()) {
    // Each event on its own: the server keeps the ones it can read.
    absl::StatusOr<DecodedEvents> decoded = DecodeEventsJson(request.events());
    if (decoded.ok()) events = std::move(decoded->events);
  }
  for (const CollectorEvent* event = events.data();
       event != events.data() + events.size(); ++event) {
    switch (event->type) {
      case CollectorEventType::kRequest:
        ++expected.requests;
        break;
      case CollectorEventType::kRateLimitedRequest:
        ++expected.rate_limited;
        break;
      case CollectorEventType::kAttack:
        ++expected.attacks;
        expected.attacks_blocked += event->blocked;
        break;
      case CollectorEventType::kAttackWave:
        ++expected.waves;
        expected.waves_blocked += event->blocked;
        break;
      default:
        break;
    }
  }

  h.server->collector().Flush();
  absl::StatusOr<rpc::RawResult> result = h.channel->Call(
      "send_collector_events", view.args, view.kwargs, Bounded());
  if (!decodes) {
    FUZZ_CHECK(absl::IsInvalidArgument(result.status()));
    FUZZ_CHECK(Count(h.server->collector().Snapshot()) == Totals());
    return;
  }
  FUZZ_CHECK(result.ok());
  FUZZ_CHECK(result->json() == "null");
  // Acknowledged first, folded right after: wait for the fold.
  const absl::Time deadline = zen::Now() + absl::Seconds(5);
  Totals seen = Count(h.server->collector().Snapshot());
  while (!(seen == expected) && zen::Now() < deadline) {
    zen::SleepFor(absl::Microseconds(50));
    seen = Count(h.server->collector().Snapshot());
  }
  FUZZ_CHECK(seen == expected);
}

void Run(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const uint8_t mode = input.ConsumeByte();
  Harness& h = TheHarness();
  const absl::string_view text = input.ConsumeRemaining();
  switch (mode & 3) {
    case 0:
      FuzzSettings(h, /*config=*/true, text);
      break;
    case 1:
      FuzzSettings(h, /*config=*/false, text);
      break;
    case 2:
      FuzzEvents(h, /*positional=*/false, text);
      break;
    default:
      FuzzEvents(h, /*positional=*/true, text);
  }
}

}  // namespace
}  // namespace zen::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zen::fuzz::Run(data, size);
  return 0;
}
