// GET /metrics in the pre-fork parent: AgentServer::WriteMetrics over HTTP,
// on a port of its own (the application's port is served by the workers,
// which do not hold the parent's figures).
#ifndef ZEN_EXAMPLES_METRICS_ENDPOINT_H_
#define ZEN_EXAMPLES_METRICS_ENDPOINT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/agent_server.h"
#include "examples/shared_socket_http_server.h"
#include "ipc/unique_fd.h"

namespace zen::examples {

inline constexpr char kMetricsPath[] = "/metrics";

// Serves `GET /metrics` (Prometheus' text format 0.0.4) from `server`, which
// is not owned and must outlive this object, with one thread. Start it in
// the parent; a forked worker closes fd() at once (its copy only: the
// socket is never shut down) and never serves it.
class MetricsEndpoint {
 public:
  // Binds host:port (0: ephemeral) and starts serving. kUnavailable if the
  // address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& host, uint16_t port, const AgentServer* server);
  ~MetricsEndpoint();

  uint16_t port() const { return port_; }
  int fd() const { return fd_.get(); }

 private:
  MetricsEndpoint(ipc::UniqueFd fd, uint16_t port, const AgentServer* server);

  const ipc::UniqueFd fd_;
  const uint16_t port_;
  SharedSocketHttpServer http_;
};

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_METRICS_ENDPOINT_H_
