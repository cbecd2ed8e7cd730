#include "agent/model/firewall_lists.h"

#include <simdjson.h>

#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/model/json_fields.h"
#include "base/status_macros.h"
#include "re2/re2.h"

namespace zen {
namespace {

using json_fields::ArrayField;
using json_fields::FieldPath;
using json_fields::IndexPath;
using json_fields::ObjectValue;
using json_fields::StringField;

re2::StringPiece ToPiece(absl::string_view text) {
  return re2::StringPiece(text.data(), text.size());
}

// Compiles a user-agent pattern: case-insensitive like the reference's
// `/pattern/i`, no capture groups (only match/no-match is needed, and RE2 is
// faster without them), and errors returned rather than logged, since the
// library never writes to stderr on its own.
absl::StatusOr<std::unique_ptr<const RE2>> CompilePattern(
    absl::string_view pattern, absl::string_view path) {
  RE2::Options options;
  options.set_case_sensitive(false);
  options.set_never_capture(true);
  options.set_log_errors(false);
  auto re = std::make_unique<const RE2>(ToPiece(pattern), options);
  if (!re->ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": invalid regular expression: ", re->error()));
  }
  return re;
}

// An optional pattern string; null, absent and "" all mean no pattern.
absl::StatusOr<std::unique_ptr<const RE2>> ParseOptionalPattern(
    simdjson::dom::object object, absl::string_view key) {
  ZEN_ASSIGN_OR_RETURN(std::string pattern, StringField(object, key, "", ""));
  if (pattern.empty()) return std::unique_ptr<const RE2>();
  return CompilePattern(pattern, key);
}

absl::StatusOr<FirewallLists::IpList> ParseIpList(simdjson::dom::element value,
                                                  absl::string_view path) {
  ZEN_ASSIGN_OR_RETURN(simdjson::dom::object object, ObjectValue(value, path));
  FirewallLists::IpList list;
  ZEN_ASSIGN_OR_RETURN(list.info.key, StringField(object, "key", "", path));
  ZEN_ASSIGN_OR_RETURN(list.info.source,
                       StringField(object, "source", "", path));
  ZEN_ASSIGN_OR_RETURN(list.info.description,
                       StringField(object, "description", "", path));
  ZEN_ASSIGN_OR_RETURN(std::optional<simdjson::dom::array> ips,
                       ArrayField(object, "ips", path));
  if (ips.has_value()) {
    // Errors name the list by key as well as by position: that is what an
    // operator finds in the dashboard.
    ZEN_ASSIGN_OR_RETURN(
        list.ips,
        json_fields::IpSetValue(
            *ips, absl::StrCat(path, " (key \"", list.info.key, "\").ips")));
  }
  return list;
}

absl::StatusOr<std::vector<FirewallLists::IpList>> ParseIpLists(
    simdjson::dom::object object, absl::string_view key) {
  ZEN_ASSIGN_OR_RETURN(std::optional<simdjson::dom::array> array,
                       ArrayField(object, key, ""));
  std::vector<FirewallLists::IpList> lists;
  if (!array.has_value()) return lists;
  lists.reserve(array->size());
  for (simdjson::dom::element value : *array) {
    ZEN_ASSIGN_OR_RETURN(FirewallLists::IpList list,
                         ParseIpList(value, IndexPath(key, lists.size())));
    lists.push_back(std::move(list));
  }
  return lists;
}

using KeyedPatterns =
    std::vector<std::pair<std::string, std::unique_ptr<const RE2>>>;

absl::StatusOr<KeyedPatterns> ParseUserAgentDetails(
    simdjson::dom::object object) {
  constexpr absl::string_view kKey = "userAgentDetails";
  ZEN_ASSIGN_OR_RETURN(std::optional<simdjson::dom::array> array,
                       ArrayField(object, kKey, ""));
  KeyedPatterns details;
  if (!array.has_value()) return details;
  size_t index = 0;
  for (simdjson::dom::element value : *array) {
    const std::string path = IndexPath(kKey, index++);
    ZEN_ASSIGN_OR_RETURN(simdjson::dom::object entry, ObjectValue(value, path));
    ZEN_ASSIGN_OR_RETURN(std::string key, StringField(entry, "key", "", path));
    ZEN_ASSIGN_OR_RETURN(std::string pattern,
                         StringField(entry, "pattern", "", path));
    if (key.empty() || pattern.empty()) continue;
    ZEN_ASSIGN_OR_RETURN(std::unique_ptr<const RE2> re,
                         CompilePattern(pattern, FieldPath(path, "pattern")));
    details.emplace_back(std::move(key), std::move(re));
  }
  return details;
}

bool Matches(const std::unique_ptr<const RE2>& re,
             absl::string_view user_agent) {
  return re != nullptr && RE2::PartialMatch(ToPiece(user_agent), *re);
}

bool AnyContains(const std::vector<FirewallLists::IpList>& lists,
                 const IpAddress& ip) {
  for (const FirewallLists::IpList& list : lists) {
    if (list.ips.Contains(ip)) return true;
  }
  return false;
}

}  // namespace

FirewallLists::FirewallLists() = default;
FirewallLists::FirewallLists(FirewallLists&&) noexcept = default;
FirewallLists& FirewallLists::operator=(FirewallLists&&) noexcept = default;
FirewallLists::~FirewallLists() = default;

absl::StatusOr<FirewallLists> FirewallLists::Parse(absl::string_view json) {
  if (absl::StripAsciiWhitespace(json).empty()) return FirewallLists();
  simdjson::dom::parser parser;
  ZEN_ASSIGN_OR_RETURN(simdjson::dom::element root,
                       json_fields::ParseDocument(
                           &parser, json, "firewall lists", kMaxDocumentBytes));
  if (root.is_null()) return FirewallLists();
  ZEN_ASSIGN_OR_RETURN(simdjson::dom::object object,
                       ObjectValue(root, "firewall lists"));

  // Field errors name only the field; say which document they are in.
  absl::StatusOr<FirewallLists> parsed =
      [&]() -> absl::StatusOr<FirewallLists> {
    FirewallLists lists;
    lists.present_ = true;
    ZEN_ASSIGN_OR_RETURN(lists.blocked_,
                         ParseIpLists(object, "blockedIPAddresses"));
    ZEN_ASSIGN_OR_RETURN(lists.allowed_,
                         ParseIpLists(object, "allowedIPAddresses"));
    ZEN_ASSIGN_OR_RETURN(lists.monitored_,
                         ParseIpLists(object, "monitoredIPAddresses"));
    ZEN_ASSIGN_OR_RETURN(lists.blocked_user_agents_,
                         ParseOptionalPattern(object, "blockedUserAgents"));
    ZEN_ASSIGN_OR_RETURN(lists.monitored_user_agents_,
                         ParseOptionalPattern(object, "monitoredUserAgents"));
    ZEN_ASSIGN_OR_RETURN(KeyedPatterns details, ParseUserAgentDetails(object));
    lists.user_agent_details_.reserve(details.size());
    for (auto& [key, pattern] : details) {
      lists.user_agent_details_.push_back(
          UserAgentDetail{std::move(key), std::move(pattern)});
    }
    return lists;
  }();
  if (!parsed.ok()) {
    return absl::Status(
        parsed.status().code(),
        absl::StrCat("firewall lists: ", parsed.status().message()));
  }
  return parsed;
}

const IpListInfo* FirewallLists::FindBlockingList(const IpAddress& ip) const {
  for (const IpList& list : blocked_) {
    if (list.ips.Contains(ip)) return &list.info;
  }
  return nullptr;
}

bool FirewallLists::IsAllowed(const IpAddress& ip) const {
  return allowed_.empty() || AnyContains(allowed_, ip);
}

bool FirewallLists::IsAllowed(absl::string_view ip) const {
  if (allowed_.empty()) return true;
  const std::optional<IpAddress> parsed = IpAddress::Parse(ip);
  return parsed.has_value() && AnyContains(allowed_, *parsed);
}

std::vector<std::string> FirewallLists::MonitoredListKeys(
    const IpAddress& ip) const {
  std::vector<std::string> keys;
  for (const IpList& list : monitored_) {
    if (list.ips.Contains(ip)) keys.push_back(list.info.key);
  }
  return keys;
}

bool FirewallLists::IsUserAgentBlocked(absl::string_view user_agent) const {
  return Matches(blocked_user_agents_, user_agent);
}

bool FirewallLists::IsUserAgentMonitored(absl::string_view user_agent) const {
  return Matches(monitored_user_agents_, user_agent);
}

std::vector<std::string> FirewallLists::UserAgentDetailKeys(
    absl::string_view user_agent) const {
  std::vector<std::string> keys;
  for (const UserAgentDetail& detail : user_agent_details_) {
    if (Matches(detail.pattern, user_agent)) keys.push_back(detail.key);
  }
  return keys;
}

}  // namespace zen
