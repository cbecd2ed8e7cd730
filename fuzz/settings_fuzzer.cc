// Fuzzes the agent's settings path without sockets: the two settings
// documents as RuntimeSettings parses and applies them (in the parent from
// the API, in every child from `updated_settings`), the SettingsCache that
// hands them out, and the request-time queries over the parsed result.
//
// Input: one byte of flags, then the document text, then probe strings (an
// IP address, a user agent, a method, a route, a user id) separated by
// "\n--\n". Checked:
// * Apply* and Parse agree on every document (the parent and the children
//   reach the same settings from the same bytes);
// * a rejected document leaves the settings exactly as they were;
// * the cache stores accepted text byte for byte, bumps the generation by
//   one per change and never for identical bytes, and ChangedSince follows
//   the generations;
// * queries with arbitrary strings never crash (RE2 patterns from the
//   document included) and give the same answers on a copy.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/model/ip_set.h"
#include "agent/model/runtime_settings.h"
#include "agent/model/settings_cache.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"

namespace zen::fuzz {
namespace {

constexpr char kBaseConfig[] =
    R"({"configUpdatedAt":1700000000000,"heartbeatIntervalInMS":60000,)"
    R"("block":true,"endpoints":[{"method":"POST","route":"/login",)"
    R"("allowedIPAddresses":["10.0.0.0/8"],"rateLimiting":{"enabled":true,)"
    R"("maxRequests":3,"windowSizeInMS":1000}}],"blockedUserIds":["u1"],)"
    R"("allowedIPAddresses":["1.2.3.4"]})";
constexpr char kBaseLists[] =
    R"({"blockedIPAddresses":[{"key":"tor","source":"s","description":"d",)"
    R"("ips":["5.6.7.8","2001:db8::/32"]}],"blockedUserAgents":"bot|crawl",)"
    R"("userAgentDetails":[{"key":"k","pattern":"curl"}]})";

struct Probe {
  std::string ip, user_agent, method, route, user;
};

// Everything a request check can observe, as text, for comparisons.
std::string Observe(const RuntimeSettings& s, const Probe& p) {
  std::string out = absl::StrCat(
      s.has_config(), s.has_firewall_lists(), s.block(), "|",
      absl::FormatTime(s.config_updated_at()), "|",
      absl::FormatDuration(s.heartbeat_interval()), "|",
      s.IsUserBlocked(p.user), s.IsUserExcludedFromRateLimiting(p.user),
      s.IsIpBypassed(p.ip), s.IsIpAllowed(p.ip),
      s.IsUserAgentBlocked(p.user_agent), s.IsUserAgentMonitored(p.user_agent),
      "|");
  absl::StrAppend(
      &out, s.IsProtectionForcedOff(p.method, p.route),
      s.IsIpAllowedOnRoute(p.method, p.route, IpAddress::Parse(p.ip)), "|");
  if (const EndpointSettings* e = s.FindEndpoint(p.method, p.route)) {
    absl::StrAppend(&out, e->method, " ", e->route, " ",
                    e->force_protection_off, e->rate_limiting.enabled, " ",
                    e->rate_limiting.max_requests, " ",
                    absl::FormatDuration(e->rate_limiting.window), "|");
  }
  if (std::optional<IpListInfo> blocked = s.IsIpBlocked(p.ip)) {
    absl::StrAppend(&out, "blocked:", blocked->key, "|");
  }
  for (const std::string& key : s.MonitoredIpLists(p.ip)) {
    absl::StrAppend(&out, "mon:", key, "|");
  }
  for (const std::string& key : s.UserAgentDetails(p.user_agent)) {
    absl::StrAppend(&out, "ua:", key, "|");
  }
  return out;
}

void CheckCache(const std::string& doc, bool config) {
  SettingsCache cache;
  auto update = [&](std::string text) {
    return config ? cache.UpdateConfig(std::move(text))
                  : cache.UpdateFirewallLists(std::move(text));
  };
  // Nothing cached yet: generation 0, text null, and a child that knows
  // nothing gets both documents.
  SettingsChanges first = cache.ChangedSince(std::nullopt, std::nullopt);
  FUZZ_CHECK(first.config_changed && first.firewall_lists_changed);
  FUZZ_CHECK(first.snapshot.config == nullptr);
  const uint64_t g1 = update(doc);
  // `null` over nothing cached is no change (the reference's nil == nil).
  if (doc == "null") {
    FUZZ_CHECK(g1 == 0);
    return;
  }
  FUZZ_CHECK(g1 == 1);
  FUZZ_CHECK(update(doc) == g1);  // Same bytes: no change.
  SettingsSnapshot snap = cache.Snapshot();
  const auto& text = config ? snap.config : snap.firewall_lists;
  FUZZ_CHECK(text != nullptr && *text == doc);
  SettingsChanges current = config ? cache.ChangedSince(g1, std::nullopt)
                                   : cache.ChangedSince(std::nullopt, g1);
  FUZZ_CHECK(config ? !current.config_changed
                    : !current.firewall_lists_changed);
  const uint64_t g2 = update(doc + " ");
  FUZZ_CHECK(g2 == g1 + 1);
  FUZZ_CHECK(*(config ? cache.Snapshot().config
                      : cache.Snapshot().firewall_lists) == doc + " ");
  // The old snapshot still holds the old bytes.
  FUZZ_CHECK(*text == doc);
}

void Run(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const uint8_t flags = input.ConsumeByte();
  const bool config = (flags & 1) != 0;
  const std::string doc(input.ConsumeUntil("\n--\n"));
  Probe probe;
  probe.ip = std::string(input.ConsumeUntil("\n--\n"));
  probe.user_agent = std::string(input.ConsumeUntil("\n--\n"));
  probe.method = std::string(input.ConsumeUntil("\n--\n"));
  probe.route = std::string(input.ConsumeUntil("\n--\n"));
  probe.user = std::string(input.ConsumeRemaining());

  // Start from valid settings (or none), as a parent or a child would hold.
  RuntimeSettings settings;
  if ((flags & 2) != 0) {
    absl::StatusOr<RuntimeSettings> base =
        RuntimeSettings::Parse(kBaseConfig, kBaseLists);
    FUZZ_CHECK(base.ok());
    settings = *base;
  }
  const std::string before = Observe(settings, probe);
  RuntimeSettings copy = settings;
  const absl::Status applied =
      config ? settings.ApplyConfig(doc) : settings.ApplyFirewallLists(doc);
  // Apply on the copy-on-write copy did not touch the original's parts.
  FUZZ_CHECK(Observe(copy, probe) == before);
  const absl::StatusOr<RuntimeSettings> parsed =
      config ? RuntimeSettings::Parse(doc, "")
             : RuntimeSettings::Parse("", doc);
  FUZZ_CHECK(applied.ok() == parsed.ok());
  if (!applied.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(applied) ||
               absl::IsResourceExhausted(applied));
    FUZZ_CHECK(Observe(settings, probe) == before);
    return;
  }
  // The applied document gives what parsing it alone gives, for the part it
  // replaced.
  const RuntimeSettings& alone = *parsed;
  if (config) {
    FUZZ_CHECK(settings.has_config() == alone.has_config());
    FUZZ_CHECK(settings.block() == alone.block());
    FUZZ_CHECK(settings.IsUserBlocked(probe.user) ==
               alone.IsUserBlocked(probe.user));
    FUZZ_CHECK((settings.FindEndpoint(probe.method, probe.route) == nullptr) ==
               (alone.FindEndpoint(probe.method, probe.route) == nullptr));
  } else {
    FUZZ_CHECK(settings.has_firewall_lists() == alone.has_firewall_lists());
    FUZZ_CHECK(settings.IsUserAgentBlocked(probe.user_agent) ==
               alone.IsUserAgentBlocked(probe.user_agent));
    FUZZ_CHECK(settings.MonitoredIpLists(probe.ip) ==
               alone.MonitoredIpLists(probe.ip));
  }
  // A copy answers the same.
  RuntimeSettings shared = settings;
  FUZZ_CHECK(Observe(shared, probe) == Observe(settings, probe));
  CheckCache(doc, config);
}

}  // namespace
}  // namespace zen::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zen::fuzz::Run(data, size);
  return 0;
}
