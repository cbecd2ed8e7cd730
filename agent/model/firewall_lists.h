// The firewall lists document (the API's /api/runtime/firewall/lists
// response), parsed into what a request check needs.
//
// Keys are the API's camelCase ones:
//
//   {"blockedIPAddresses":   [{"key": "tor", "source": "tor",
//                              "description": "Tor exit nodes",
//                              "ips": ["1.2.3.4", "10.0.0.0/8",
//                              "2001:db8::/32"]}],
//    "allowedIPAddresses":   [...same shape...],
//    "monitoredIPAddresses": [...same shape...],
//    "blockedUserAgents":    "AI2Bot|Bytespider",
//    "monitoredUserAgents":  "curl|wget",
//    "userAgentDetails":     [{"key": "bytespider", "pattern": "Bytespider"}]}
//
// User-agent patterns are RE2 regular expressions, matched case-insensitively
// anywhere in the user agent (as the reference's `/pattern/i`). RE2, not
// std::regex, because user agents are attacker-controlled: RE2 matches in
// time linear in the input and never backtracks. A pattern RE2 cannot compile
// (backreferences, lookaround, or one too large) rejects the document, like a
// malformed CIDR block does; the caller keeps its previous lists.
#ifndef ZEN_AGENT_MODEL_FIREWALL_LISTS_H_
#define ZEN_AGENT_MODEL_FIREWALL_LISTS_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/model/ip_set.h"

// Only firewall_lists.cc compiles or matches patterns: re2.h stays out of
// the dozens of files this header reaches.
namespace re2 {
class RE2;
}  // namespace re2

namespace zen {

// Identifies one IP list, for logs, responses and statistics.
struct IpListInfo {
  std::string key;
  std::string source;
  std::string description;
};

// Immutable parsed lists. Movable, not copyable (it owns compiled regular
// expressions); share it as std::shared_ptr<const FirewallLists>. Thread-safe
// for concurrent const use (RE2 matching is).
class FirewallLists {
 public:
  struct IpList {
    IpListInfo info;
    IpSet ips;
  };

  // Documents larger than this are rejected (kResourceExhausted).
  static constexpr size_t kMaxDocumentBytes = size_t{64} << 20;

  // No lists yet: present() is false, nothing is blocked or monitored, and
  // every address is allowed.
  FirewallLists();
  // Out of line: they destroy re2::RE2, which is incomplete here.
  FirewallLists(FirewallLists&&) noexcept;
  FirewallLists& operator=(FirewallLists&&) noexcept;
  ~FirewallLists();

  // Parses the document. Empty text (or only whitespace) and `null` mean "no
  // lists yet" and give FirewallLists(). Absent or null keys mean empty
  // lists; an empty pattern string means no pattern; a userAgentDetails entry
  // without key or pattern is skipped, as the reference does. Errors, naming
  // the field and list: kInvalidArgument for malformed JSON, a top level that
  // is not an object, a present field of the wrong type, an IP entry that is
  // neither an address nor a CIDR block, or a pattern RE2 rejects;
  // kResourceExhausted over kMaxDocumentBytes.
  static absl::StatusOr<FirewallLists> Parse(absl::string_view json);

  // False until a document (not `null`) has been parsed.
  bool present() const { return present_; }

  // The first blocked list (in document order) containing `ip`, or nullptr.
  // The pointer stays valid as long as this object.
  const IpListInfo* FindBlockingList(const IpAddress& ip) const;

  // False only when there are allowed lists and none contains `ip`.
  bool IsAllowed(const IpAddress& ip) const;
  // Same for text; an unparsable address is in no list, so it is allowed
  // only when there are no allowed lists.
  bool IsAllowed(absl::string_view ip) const;
  bool has_allowed_lists() const { return !allowed_.empty(); }

  // Keys of the monitored lists containing `ip`, in document order.
  std::vector<std::string> MonitoredListKeys(const IpAddress& ip) const;

  bool IsUserAgentBlocked(absl::string_view user_agent) const;
  bool IsUserAgentMonitored(absl::string_view user_agent) const;
  // Keys of the userAgentDetails entries whose pattern matches, in document
  // order.
  std::vector<std::string> UserAgentDetailKeys(
      absl::string_view user_agent) const;

  // The lists, in document order.
  const std::vector<IpList>& blocked_lists() const { return blocked_; }
  const std::vector<IpList>& allowed_lists() const { return allowed_; }
  const std::vector<IpList>& monitored_lists() const { return monitored_; }

 private:
  struct UserAgentDetail {
    std::string key;
    std::unique_ptr<const re2::RE2> pattern;
  };

  bool present_ = false;
  std::vector<IpList> blocked_;
  std::vector<IpList> allowed_;
  std::vector<IpList> monitored_;
  std::unique_ptr<const re2::RE2> blocked_user_agents_;    // null: none
  std::unique_ptr<const re2::RE2> monitored_user_agents_;  // null: none
  std::vector<UserAgentDetail> user_agent_details_;
};

}  // namespace zen

#endif  // ZEN_AGENT_MODEL_FIREWALL_LISTS_H_
