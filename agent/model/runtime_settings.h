// Everything a request check needs from the product's two settings
// documents: the runtime config (see runtime_config.h) and the firewall lists
// (see firewall_lists.h), kept elsewhere byte-for-byte as the API sent them.
//
// Thread-safety and sharing: a RuntimeSettings is a small value holding two
// immutable, shared parts, so copying it is two reference-count increments
// and copies never affect each other. Const methods may run concurrently.
// ApplyConfig / ApplyFirewallLists modify this object only and need exclusive
// access to it. The intended pattern is copy-on-write: the thread that
// receives new documents copies the current settings, applies the new
// document to the copy, and publishes it as a
// std::shared_ptr<const RuntimeSettings> that request threads load (under a
// short lock) and read without further locking.
//
// Determinism: the settings are a function of the two documents only;
// applying a document gives the same result as Parse would with it.
#ifndef ZEN_AGENT_MODEL_RUNTIME_SETTINGS_H_
#define ZEN_AGENT_MODEL_RUNTIME_SETTINGS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "agent/model/firewall_lists.h"
#include "agent/model/ip_set.h"
#include "agent/model/runtime_config.h"

namespace zen {

class RuntimeSettings {
 public:
  // Neither document yet: nothing is blocked, limited or monitored.
  RuntimeSettings();

  // Parses both documents. For either one, empty text or `null` means "none
  // yet". Returns the first document's error (see RuntimeConfig::Parse and
  // FirewallLists::Parse; messages say which document failed).
  static absl::StatusOr<RuntimeSettings> Parse(
      absl::string_view config_json, absl::string_view firewall_lists_json);

  // Replace one document. On error this object is left exactly as it was: a
  // malformed document is rejected as a whole and the previous settings stay.
  // Empty text or `null` replaces the document with "none yet". (The
  // reference child skips a null document instead of applying it; callers
  // that want that behaviour do not call these with null.)
  absl::Status ApplyConfig(absl::string_view config_json);
  absl::Status ApplyFirewallLists(absl::string_view firewall_lists_json);

  // The parsed parts, for queries not mirrored below. References stay valid
  // until the next Apply call on this object or its destruction.
  const RuntimeConfig& config() const { return *config_; }
  const FirewallLists& firewall_lists() const { return *lists_; }

  // The documents' text as last applied (kept byte for byte, shared by the
  // copies of this object); null before the first, or after `null`.
  const std::shared_ptr<const std::string>& config_json() const {
    return config_json_;
  }
  const std::shared_ptr<const std::string>& firewall_lists_json() const {
    return lists_json_;
  }

  bool has_config() const { return config_->present(); }
  bool has_firewall_lists() const { return lists_->present(); }

  // From the runtime config.
  absl::Time config_updated_at() const { return config_->updated_at(); }
  absl::Duration heartbeat_interval() const {
    return config_->heartbeat_interval();
  }
  bool block() const { return config_->block(); }
  // See RuntimeConfig::FindEndpoint for the matching rule. The pointer stays
  // valid until the next ApplyConfig on this object or its destruction.
  const EndpointSettings* FindEndpoint(absl::string_view method,
                                       absl::string_view route) const {
    return config_->FindEndpoint(method, route);
  }
  // See RuntimeConfig: every matching endpoint counts for these two.
  bool IsProtectionForcedOff(absl::string_view method,
                             absl::string_view route) const {
    return config_->IsProtectionForcedOff(method, route);
  }
  bool IsIpAllowedOnRoute(absl::string_view method, absl::string_view route,
                          const std::optional<IpAddress>& ip) const {
    return config_->IsIpAllowedOnRoute(method, route, ip);
  }
  bool IsUserBlocked(absl::string_view user_id) const {
    return config_->IsUserBlocked(user_id);
  }
  bool IsUserExcludedFromRateLimiting(absl::string_view user_id) const {
    return config_->IsUserExcludedFromRateLimiting(user_id);
  }
  // In the config's global `allowedIPAddresses` (protection bypassed).
  bool IsIpBypassed(absl::string_view ip) const {
    return config_->IsIpBypassed(ip);
  }

  // From the firewall lists. Addresses are textual IPv4 or IPv6 (mapped
  // IPv6 matches IPv4 entries); an unparsable address is in no list. The
  // IpAddress overloads let a caller parse a client address once.

  // The first blocked list containing `ip`, or nullopt.
  std::optional<IpListInfo> IsIpBlocked(absl::string_view ip) const;
  std::optional<IpListInfo> IsIpBlocked(const IpAddress& ip) const;
  // False only when allowed lists exist and none contains `ip`.
  bool IsIpAllowed(absl::string_view ip) const;
  bool IsIpAllowed(const IpAddress& ip) const { return lists_->IsAllowed(ip); }
  // Keys of the monitored lists containing `ip`, in document order.
  std::vector<std::string> MonitoredIpLists(absl::string_view ip) const;
  std::vector<std::string> MonitoredIpLists(const IpAddress& ip) const {
    return lists_->MonitoredListKeys(ip);
  }

  bool IsUserAgentBlocked(absl::string_view user_agent) const {
    return lists_->IsUserAgentBlocked(user_agent);
  }
  bool IsUserAgentMonitored(absl::string_view user_agent) const {
    return lists_->IsUserAgentMonitored(user_agent);
  }
  // Keys of the userAgentDetails entries matching `user_agent`.
  std::vector<std::string> UserAgentDetails(
      absl::string_view user_agent) const {
    return lists_->UserAgentDetailKeys(user_agent);
  }

 private:
  std::shared_ptr<const RuntimeConfig> config_;  // never null
  std::shared_ptr<const FirewallLists> lists_;   // never null
  std::shared_ptr<const std::string> config_json_;
  std::shared_ptr<const std::string> lists_json_;
};

}  // namespace zen

#endif  // ZEN_AGENT_MODEL_RUNTIME_SETTINGS_H_
