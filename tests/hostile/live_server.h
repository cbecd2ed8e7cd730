// LiveServer: a running rpc::Server (the rpc_cli built-in methods) that
// hostile-input and fault tests attack over real loopback sockets, with the
// two checks every such test ends with: an honest client is still served
// promptly, and the process's descriptor count is back to its baseline.
//
// Also raw-socket helpers for speaking (or mangling) the protocol by hand.
#ifndef ZEN_TESTS_HOSTILE_LIVE_SERVER_H_
#define ZEN_TESTS_HOSTILE_LIVE_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ipc/connector.h"
#include "ipc/secret.h"
#include "ipc/unique_fd.h"
#include "rpc/server.h"

namespace zen::hostile {

// How long an honest call may take while (or after) the server is attacked.
// Generous for sanitizer builds on a busy two-core machine; a server that
// blocks on an attacker waits seconds (its timeouts), not this.
absl::Duration PromptBound();

// The options the hostile suites run with: the defaults, except a shorter
// handshake timeout (1 s) and write timeout (2 s), so tests that wait them
// out stay short. Limits (frame size, connection caps, in-flight cap) are
// the defaults.
rpc::ServerOptions HostileServerOptions();

class LiveServer {
 public:
  // Starts a server with the built-in methods on 127.0.0.1 and records the
  // descriptor baseline once an honest client has come and gone.
  explicit LiveServer(rpc::ServerOptions options = HostileServerOptions());
  ~LiveServer();

  const ipc::Secret& secret() const { return secret_; }
  uint16_t port() const { return server_->port(); }
  // Where a client connects: the transport, port or Unix socket path.
  ipc::ConnectorOptions Target() const;
  rpc::Server& server() { return *server_; }
  const rpc::ServerOptions& options() const { return options_; }

  // A fresh channel calls `echo` and gets its answer within PromptBound().
  absl::Status HonestCallIsPrompt();

  // Waits (up to `patience`) until this process holds exactly as many
  // descriptors as at the baseline; an error names the surplus.
  absl::Status DescriptorsBackToBaseline(
      absl::Duration patience = absl::Seconds(10));

  size_t baseline_descriptors() const { return baseline_; }

 private:
  ipc::Secret secret_;
  rpc::ServerOptions options_;
  std::unique_ptr<rpc::Server> server_;
  size_t baseline_ = 0;
};

// Descriptors open in this process.
size_t DescriptorCount();
// Threads of this process.
size_t ThreadCount();
// Resident set size of this process, in bytes.
size_t ResidentBytes();

// A connected TCP socket to 127.0.0.1:port, nothing sent.
absl::StatusOr<ipc::UniqueFd> RawConnect(uint16_t port);

// A connection that passed the client handshake with `secret`.
absl::StatusOr<ipc::UniqueFd> AuthenticatedConnect(uint16_t port,
                                                   const ipc::Secret& secret);

// Writes every byte (deadline 10 s).
absl::Status SendBytes(int fd, absl::string_view bytes);

// A frame: 4-byte big-endian length, then `body`.
std::string Frame(absl::string_view body);
// A header alone, declaring `length` bytes.
std::string FrameHeader(uint32_t length);

// Reads one frame body, or an error (kUnavailable at EOF, kDeadlineExceeded).
absl::StatusOr<std::string> ReadFrame(int fd, absl::Time deadline);

// Reads and discards until EOF or reset; returns how many bytes came first.
// kDeadlineExceeded if the peer keeps the connection open past `deadline`.
absl::StatusOr<size_t> DrainUntilClosed(int fd, absl::Time deadline);

// The 32-byte server challenge.
absl::StatusOr<std::string> ReadChallenge(int fd, absl::Time deadline);

// HMAC-SHA256(secret, label ‖ challenge), as the handshake computes it.
std::string Proof(const ipc::Secret& secret, const char* label,
                  absl::string_view challenge);

}  // namespace zen::hostile

#endif  // ZEN_TESTS_HOSTILE_LIVE_SERVER_H_
