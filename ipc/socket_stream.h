// SocketStream: MessageStream over an authenticated TCP connection.
#ifndef ZEN_IPC_SOCKET_STREAM_H_
#define ZEN_IPC_SOCKET_STREAM_H_

#include <atomic>

#include "base/mutex.h"
#include "ipc/frame.h"
#include "ipc/message_stream.h"
#include "ipc/options.h"
#include "ipc/unique_fd.h"

namespace zen::ipc {

// Frames over one connected socket. Each frame is one sendmsg(2) of header
// and body (coalesced, as the reference does). Reads are buffered: one read
// may deliver several frames, and a frame split over many writes
// reassembles. Thread-safety as MessageStream says.
class SocketStream final : public MessageStream {
 public:
  // Takes ownership of a connected, nonblocking, close-on-exec socket.
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
  UniqueFd fd_;
  const StreamOptions options_;
  FrameDecoder decoder_;  // Used only by the one reader.
  bool drained_ = false;  // The last read got less than asked. Reader only.
  Mutex write_mu_;
  bool write_broken_ ABSL_GUARDED_BY(write_mu_) = false;
  std::atomic<bool> shut_down_{false};
};

}  // namespace zen::ipc

#endif  // ZEN_IPC_SOCKET_STREAM_H_
