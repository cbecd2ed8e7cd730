// The settings documents the example starts with when no file is given:
// what the product's API would send for a small demo application.
#ifndef ZEN_EXAMPLES_DEFAULT_SETTINGS_H_
#define ZEN_EXAMPLES_DEFAULT_SETTINGS_H_

#include "absl/strings/string_view.h"

namespace zen::examples {

// Runtime config (see agent/model/runtime_config.h for the keys):
//   GET /api/limited   10 requests per 60 s per client (the global limit the
//                      self-test checks across workers);
//   GET /api/search    100000 per 60 s: never reached in practice, but every
//                      request asks the parent, which shows the round trip;
//   *   /api/login     5 per 60 s, for every method;
// blocked user "mallory"; user "admin" is exempt from rate limiting.
extern const absl::string_view kDefaultConfigJson;

// Firewall lists (see agent/model/firewall_lists.h): 192.0.2.0/24 blocked as
// "demo/threat_feed", 198.18.0.0/15 monitored as "demo/load_testers", user
// agents containing "AI2Bot" or "Bytespider" blocked, and user-agent details
// for curl and cpp-httplib (the self-test's client).
extern const absl::string_view kDefaultFirewallListsJson;

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_DEFAULT_SETTINGS_H_
