#include "examples/metrics_endpoint.h"

#include <utility>

#include "examples/listen_socket.h"
#include "rpc/metrics_text.h"

namespace zen::examples {

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& host, uint16_t port, const AgentServer* server) {
  absl::StatusOr<ipc::UniqueFd> fd = ListenTcp(host, port);
  if (!fd.ok()) return fd.status();
  absl::StatusOr<uint16_t> bound = BoundPort(fd->get());
  if (!bound.ok()) return bound.status();
  std::unique_ptr<MetricsEndpoint> endpoint(
      new MetricsEndpoint(*std::move(fd), *bound, server));
  absl::Status started = endpoint->http_.Start();
  if (!started.ok()) return started;
  return endpoint;
}

MetricsEndpoint::MetricsEndpoint(ipc::UniqueFd fd, uint16_t port,
                                 const AgentServer* server)
    : fd_(std::move(fd)), port_(port), http_(fd_.get(), /*threads=*/1) {
  http_.Get(kMetricsPath,
            [server](const httplib::Request&, httplib::Response& response) {
              std::string text;
              server->WriteMetrics(&text);
              response.set_content(text, std::string(rpc::kMetricsContentType));
            });
}

MetricsEndpoint::~MetricsEndpoint() { http_.StopAccepting(); }

}  // namespace zen::examples
