#include "examples/demo_app.h"

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "examples/client_ip.h"
#include "examples/request_guard.h"
#include "examples/worker_status.h"

namespace zen::examples {
namespace {

constexpr char kJson[] = "application/json";

RequestFacts FactsOf(const httplib::Request& request) {
  RequestFacts facts;
  facts.method = request.method;
  facts.path = request.path;
  facts.client_ip = ClientIp(request.get_header_value("X-Forwarded-For"),
                             request.remote_addr);
  facts.user_agent = request.get_header_value("User-Agent");
  if (request.has_header("X-User-Id")) {
    facts.user_id = request.get_header_value("X-User-Id");
  }
  return facts;
}

void ServeApplication(Agent* agent, WorkerMetrics* metrics,
                      const httplib::Request& request,
                      httplib::Response& response) {
  const std::string pid = absl::StrCat(::getpid());
  response.set_header(kWorkerPidHeader, pid);
  // Fork detection happens here: the first call in a new worker connects.
  AgentClient* client = agent->client();
  const Verdict verdict = CheckRequest(client, FactsOf(request), metrics);
  response.status = verdict.http_status;
  if (verdict.http_status == 200) {
    response.set_content(
        absl::StrCat("{\"ok\":true,\"worker_pid\":", pid, ",\"protected\":",
                     client != nullptr ? "true" : "false", "}"),
        kJson);
    return;
  }
  if (verdict.http_status == 429) {
    response.set_header("Retry-After",
                        absl::StrCat(verdict.retry_after_seconds));
  }
  response.set_content(absl::StrCat("{\"error\":\"", verdict.reason,
                                    "\",\"worker_pid\":", pid, "}"),
                       kJson);
}

void ServeStatus(Agent* agent, WorkerMetrics* metrics,
                 httplib::Response& response) {
  WorkerStatus status = metrics->Snapshot();
  if (AgentClient* client = agent->client()) {
    const AgentClientStats stats = client->stats();
    status.agent_connected = client->connected();
    status.events_recorded = stats.events_recorded;
    status.events_sent = stats.events_sent;
    status.events_dropped = stats.events_dropped;
    status.flush_failures = stats.flush_failures;
    status.settings_polls = stats.settings_polls;
    status.rate_limit_fallbacks = stats.rate_limit_fallbacks;
    status.rate_limits_from_zone = stats.rate_limits_from_zone;
    status.rate_limits_zone_deferred = stats.rate_limits_zone_deferred;
    status.config_generation = stats.config_generation.value_or(-1);
    status.firewall_lists_generation =
        stats.firewall_lists_generation.value_or(-1);
  }
  response.set_header(kWorkerPidHeader, absl::StrCat(status.pid));
  response.set_content(WorkerStatusToJson(status), kJson);
}

}  // namespace

void InstallDemoApp(httplib::Server* server, Agent* agent,
                    WorkerMetrics* metrics) {
  auto application = [agent, metrics](const httplib::Request& request,
                                      httplib::Response& response) {
    ServeApplication(agent, metrics, request, response);
  };
  server->Get("/api/.*", application);
  server->Post("/api/.*", application);
  server->Get(kStatusPath, [agent, metrics](const httplib::Request&,
                                            httplib::Response& response) {
    ServeStatus(agent, metrics, response);
  });
}

}  // namespace zen::examples
