#include "testing/agent/reference_events.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing/same_json.h"

namespace zen::testing {

std::vector<EventCase> ReferenceEvents() {
  return {
      {R"({"type":"track_request"})",
       [](const CollectorEvent& e) {
         EXPECT_EQ(e.type, CollectorEventType::kRequest);
       }},
      {R"({"type":"track_rate_limited_request"})",
       [](const CollectorEvent& e) {
         EXPECT_EQ(e.type, CollectorEventType::kRateLimitedRequest);
       }},
      {R"({"type":"track_user_agent","user_agent_keys":["googlebot","ai_bots"]})",
       [](const CollectorEvent& e) {
         EXPECT_EQ(e.type, CollectorEventType::kUserAgent);
         EXPECT_EQ(e.keys, (std::vector<std::string>{"googlebot", "ai_bots"}));
       }},
      {R"({"type":"track_ip_list","ip_list_keys":["tor/exit_nodes"]})",
       [](const CollectorEvent& e) {
         EXPECT_EQ(e.type, CollectorEventType::kIpList);
         EXPECT_EQ(e.keys, (std::vector<std::string>{"tor/exit_nodes"}));
       }},
      {R"({"type":"track_attack_wave","being_blocked":false})",
       [](const CollectorEvent& e) {
         EXPECT_EQ(e.type, CollectorEventType::kAttackWave);
         EXPECT_FALSE(e.blocked);
       }},
      {R"({"type":"track_scan","sink_name":"mysql2",)"
       R"("sink_kind":"sql_op","duration":0.000125,"has_errors":false})",
       [](const CollectorEvent& e) {
         EXPECT_EQ(e.type, CollectorEventType::kScan);
         EXPECT_EQ(e.sink_name, "mysql2");
         EXPECT_EQ(e.sink_kind, "sql_op");
         EXPECT_EQ(e.duration, absl::Microseconds(125));  // seconds on the wire
         EXPECT_FALSE(e.has_errors);
       }},
      {R"({"type":"track_attack","sink_name":"net-http",)"
       R"("sink_kind":"outgoing_http_op",)"
       R"("being_blocked":true})",
       [](const CollectorEvent& e) {
         EXPECT_EQ(e.type, CollectorEventType::kAttack);
         EXPECT_EQ(e.sink_name, "net-http");
         EXPECT_EQ(e.sink_kind, "outgoing_http_op");
         EXPECT_TRUE(e.blocked);
       }},
      {R"({"type":"track_user","actor":{"id":"u1","name":"Ann",)"
       R"("lastIpAddress":"203.0.113.7","firstSeenAt":1700000000000,)"
       R"("lastSeenAt":1700000123000}})",
       [](const CollectorEvent& e) {
         EXPECT_EQ(e.type, CollectorEventType::kUser);
         EXPECT_EQ(e.user_id, "u1");
         EXPECT_EQ(e.user_name, "Ann");
         EXPECT_EQ(e.ip_address, "203.0.113.7");
         EXPECT_EQ(e.first_seen_ms, 1700000000000);
         EXPECT_EQ(e.last_seen_ms, 1700000123000);
       }},
      // Actor#as_json compacts: no name, no IP.
      {R"({"type":"track_user","actor":{"id":"u2",)"
       R"("firstSeenAt":1700000000000,"lastSeenAt":1700000000000}})",
       [](const CollectorEvent& e) {
         EXPECT_EQ(e.user_id, "u2");
         EXPECT_EQ(e.user_name, "");
         EXPECT_EQ(e.ip_address, "");
       }},
      {R"({"type":"track_outbound","connection":{"hostname":"api.example.com",)"
       R"("port":443}})",
       [](const CollectorEvent& e) {
         EXPECT_EQ(e.type, CollectorEventType::kOutbound);
         EXPECT_EQ(e.hostname, "api.example.com");
         EXPECT_EQ(e.port, 443);
       }},
      {R"({"type":"track_route","route":{"method":"GET","path":"/users/:id"},)"
       R"("schema":{"query":{"type":"object","properties":{"page":)"
       R"({"type":"string"}}},"auth":[{"type":"http","scheme":"bearer"}]}})",
       [](const CollectorEvent& e) {
         EXPECT_EQ(e.type, CollectorEventType::kRoute);
         EXPECT_EQ(e.method, "GET");
         EXPECT_EQ(e.path, "/users/:id");
         EXPECT_TRUE(SameJson(
             e.schema_json,
             R"({"query":{"type":"object","properties":{"page":)"
             R"({"type":"string"}}},"auth":[{"type":"http","scheme":"bearer"}]})"));
       }},
      // A route whose request schema is empty: Schema#as_json is {}.
      {R"({"type":"track_route","route":{"method":"POST","path":"/x"},)"
       R"("schema":{}})",
       [](const CollectorEvent& e) { EXPECT_EQ(e.schema_json, ""); }},
  };
}

}  // namespace zen::testing
