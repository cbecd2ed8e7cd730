// Channel: the client side, many concurrent calls over one connection.
#ifndef ZEN_RPC_CHANNEL_H_
#define ZEN_RPC_CHANNEL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ipc/connector.h"
#include "ipc/secret.h"
#include "rpc/call_options.h"
#include "rpc/method_metrics.h"
#include "rpc/raw_result.h"

namespace zen::rpc {

struct ChannelOptions {
  // Where the server is, connect and handshake timeouts, maximum frame size.
  ipc::ConnectorOptions connector;
  // Applied to calls whose CallOptions carry no deadline.
  absl::Duration default_timeout = kDefaultCallTimeout;
  // When the connection drops: reconnect in the background with this policy.
  bool reconnect = true;
  ipc::ReconnectPolicy::Options reconnect_policy;
  // If nonzero, sends `ping` when no call has been made for this long, so an
  // idle connection is not closed by the server's idle timeout (the agent
  // uses 4 s against the server's 5 s).
  absl::Duration keepalive_interval = absl::ZeroDuration();
  // Nesting deeper than this in a response is malformed.
  size_t max_json_depth = 64;
};

// Completion of an asynchronous call. Runs on a channel thread (or on the
// caller's, when the call fails before it is sent): it must not block.
using ResultCallback = std::function<void(absl::StatusOr<RawResult>)>;

// One authenticated connection to a Server, shared by any number of threads.
// Calls are routed by id and may complete in any order. Ids carry a random
// per-channel prefix, so a forked child (which makes its own channel) never
// reuses ids its parent is using.
//
// Errors of a call: kDeadlineExceeded (its deadline passed; the connection
// stays usable), kUnavailable (not connected, or the connection dropped while
// the call was pending), kCancelled (Stop()), kResourceExhausted (request over
// the frame limit, nothing sent), or the server's error with its code.
//
// Thread-safe. Owns its threads; Stop() (and the destructor) joins them.
class Channel {
 public:
  // Connects and authenticates before returning, so a wrong secret or a
  // missing server is reported here. `secret` is not owned and must outlive
  // the channel.
  static absl::StatusOr<std::unique_ptr<Channel>> Create(
      const ipc::Secret* secret, ChannelOptions options);

  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Calls `method` with raw JSON `args_json` (an array) and `kwargs_json` (an
  // object) and waits for the result. The JSON texts are sent as given.
  absl::StatusOr<RawResult> Call(absl::string_view method,
                                 absl::string_view args_json,
                                 absl::string_view kwargs_json,
                                 const CallOptions& options = {});

  // Like Call, but returns at once; `done` runs exactly once.
  void CallAsync(absl::string_view method, absl::string_view args_json,
                 absl::string_view kwargs_json, const CallOptions& options,
                 ResultCallback done);

  // Fails every pending call with kCancelled, closes the connection, stops
  // reconnecting and keepalive, joins every thread. Idempotent.
  void Stop();

  // True while a connection is established.
  bool connected() const;

  // Per method this channel called (keepalive pings included): calls that
  // ended, by code, and their latency from the call to its result (refused
  // ones included). Kept by the channel: a forked child's new channel
  // starts from zero. At most 64 methods (the rest share "_other").
  MetricsSnapshot method_metrics() const;

  // For a forked child that inherited this channel from its parent: closes
  // this process's copy of the socket without shutdown(2) (the parent keeps
  // its connection) and forgets the parent's threads. Call with no other
  // thread running, then leak the object and make a new channel.
  void AbandonAfterFork();

  class Impl;

 private:
  explicit Channel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zen::rpc

#endif  // ZEN_RPC_CHANNEL_H_
