// A listener that echoes frames, for the transport tests.
#ifndef ZEN_TESTING_ECHO_SERVER_H_
#define ZEN_TESTING_ECHO_SERVER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "ipc/connector.h"
#include "ipc/listener.h"
#include "ipc/secret.h"
#include "ipc/socket_stream.h"

namespace zen::testing {

// A started listener (on `options`: TCP on an ephemeral loopback port by
// default) whose handler echoes every frame back until the peer leaves.
// Aborts the test binary if the listener cannot be created.
struct EchoServer {
  explicit EchoServer(ipc::ListenerOptions options = {});

  // Options that reach this listener, whichever its transport.
  ipc::ConnectorOptions Client() const;

  ipc::Secret secret;
  std::atomic<int> handled{0};  // Connections that reached the handler.
  std::unique_ptr<ipc::Listener> listener;
};

// Writes `body` as one frame and expects it back within 5 s each way;
// kDataLoss if what came back differs.
absl::Status EchoRoundTrip(ipc::SocketStream& stream, const std::string& body);

}  // namespace zen::testing

#endif  // ZEN_TESTING_ECHO_SERVER_H_
