#include "examples/default_settings.h"

namespace zen::examples {

// /api/limited's 10 and /api/login's 5 per minute fit a rate-limit zone
// window (100 requests by default), so workers decide them in the zone;
// /api/search's 100,000 does not, so each of those questions goes to the
// parent: the self-test shows both paths.
const absl::string_view kDefaultConfigJson = R"json({
  "configUpdatedAt": 1700000000000,
  "heartbeatIntervalInMS": 600000,
  "block": true,
  "endpoints": [
    {"method": "GET", "route": "/api/limited", "forceProtectionOff": false,
     "allowedIPAddresses": [],
     "rateLimiting": {"enabled": true, "maxRequests": 10,
                      "windowSizeInMS": 60000}},
    {"method": "GET", "route": "/api/search", "forceProtectionOff": false,
     "allowedIPAddresses": [],
     "rateLimiting": {"enabled": true, "maxRequests": 100000,
                      "windowSizeInMS": 60000}},
    {"method": "*", "route": "/api/login", "forceProtectionOff": false,
     "allowedIPAddresses": [],
     "rateLimiting": {"enabled": true, "maxRequests": 5,
                      "windowSizeInMS": 60000}}
  ],
  "blockedUserIds": ["mallory"],
  "allowedIPAddresses": [],
  "excludedUserIdsFromRateLimiting": ["admin"]
}
)json";

const absl::string_view kDefaultFirewallListsJson = R"json({
  "blockedIPAddresses": [
    {"key": "demo/threat_feed", "source": "demo",
     "description": "A documentation range standing in for a threat feed",
     "ips": ["192.0.2.0/24"]}
  ],
  "allowedIPAddresses": [],
  "monitoredIPAddresses": [
    {"key": "demo/load_testers", "source": "demo",
     "description": "The benchmarking range",
     "ips": ["198.18.0.0/15"]}
  ],
  "blockedUserAgents": "AI2Bot|Bytespider",
  "monitoredUserAgents": "",
  "userAgentDetails": [
    {"key": "curl", "pattern": "curl"},
    {"key": "cpp-httplib", "pattern": "cpp-httplib"}
  ]
}
)json";

}  // namespace zen::examples
