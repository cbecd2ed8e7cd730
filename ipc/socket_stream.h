// SocketStream: MessageStream over an authenticated TCP connection.
#ifndef ZEN_IPC_SOCKET_STREAM_H_
#define ZEN_IPC_SOCKET_STREAM_H_

#include <atomic>

#include "base/mutex.h"
#include "ipc/frame.h"
#include "ipc/message_stream.h"
#include "ipc/options.h"
#include "ipc/receive_timeout.h"
#include "ipc/unique_fd.h"

namespace zen::ipc {

// Frames over one connected socket. Each frame is one sendmsg(2) of header
// and body (coalesced, as the reference does). Reads are buffered: one read
// may deliver several frames, and a frame split over many writes
// reassembles. Thread-safety as MessageStream says.
//
// Waiting for a message is one recv(2) that blocks, bounded by SO_RCVTIMEO
// (a syscall and a timer fewer per message than poll(2) and then recv(2));
// the last part of a wait is polled, which keeps deadlines to the
// millisecond. ReceiveTimeout plans each wait and says why. Writes never
// block the socket: they wait for POLLOUT until their deadline.
class SocketStream final : public MessageStream {
 public:
  // Takes ownership of a connected, close-on-exec socket, and clears its
  // O_NONBLOCK (see above; writes use MSG_DONTWAIT).
  SocketStream(UniqueFd fd, const StreamOptions& options);
  ~SocketStream() override = default;

  absl::StatusOr<Frame> Read(absl::Time deadline) override;
  absl::Status Write(absl::Span<const absl::string_view> parts,
                     absl::Time deadline) override;
  void Shutdown() override;

  // For a forked child holding a copy of its parent's stream: closes this
  // process's descriptor without shutdown(2) (which would cut the parent's
  // connection too). Call only when no other thread of this process uses the
  // stream (true right after fork(), where only the forking thread exists).
  void CloseAfterFork();

  int fd() const { return fd_.get(); }

 private:
  // Receives at least one byte into `space`, waiting until `deadline`:
  // spinning first if the options ask for it, then blocking in recv(2),
  // then polling the last part of the wait. kDeadlineExceeded when nothing
  // came; kUnavailable when the peer closed or the stream was shut down.
  absl::StatusOr<size_t> Receive(absl::Span<uint8_t> space,
                                 absl::Time deadline);

  UniqueFd fd_;
  const StreamOptions options_;
  // Whether recv(2) blocks (O_NONBLOCK cleared). Fixed at construction.
  bool blocking_reads_ = false;
  // Reader-only state:
  FrameDecoder decoder_;
  bool drained_ = false;    // The last receive got less than asked.
  ReceiveTimeout timeout_;  // Plans waits; knows SO_RCVTIMEO in place.
  Mutex write_mu_;
  bool write_broken_ ABSL_GUARDED_BY(write_mu_) = false;
  std::atomic<bool> shut_down_{false};
};

}  // namespace zen::ipc

#endif  // ZEN_IPC_SOCKET_STREAM_H_
