// MessageStream: the message channel the RPC layer talks to.
//
// rpc/ depends on this interface, not on sockets, so its tests can run over
// an in-memory pair; SocketStream is the real transport.
#ifndef ZEN_IPC_MESSAGE_STREAM_H_
#define ZEN_IPC_MESSAGE_STREAM_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ipc/frame.h"

namespace zen::ipc {

// A bidirectional stream of whole messages (frame bodies).
//
// Thread-safety: Write and Shutdown may be called from any thread at any
// time; Read must be called by one thread at a time (the caller arranges
// that).
class MessageStream {
 public:
  virtual ~MessageStream() = default;

  // Blocks until a whole message arrives or `deadline` passes.
  // kDeadlineExceeded leaves the stream usable (a partly received message is
  // kept). kUnavailable when the peer closed or Shutdown() was called;
  // kResourceExhausted when the peer announced a message over the limit (the
  // stream is then unusable).
  virtual absl::StatusOr<Frame> Read(absl::Time deadline) = 0;

  // Sends the concatenation of `parts` as one message; concurrent writers
  // never interleave. kResourceExhausted (nothing sent) if over the limit;
  // kDeadlineExceeded if the deadline passed before any of it could be sent.
  // Both leave the stream usable. Any other failure (kUnavailable, including
  // a deadline that cut the message short) leaves it broken: later writes
  // fail.
  virtual absl::Status Write(absl::Span<const absl::string_view> parts,
                             absl::Time deadline) = 0;

  // Wakes every thread blocked in Read or Write on this stream (they fail
  // with kUnavailable) and makes the peer see end of stream. Idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace zen::ipc

#endif  // ZEN_IPC_MESSAGE_STREAM_H_
