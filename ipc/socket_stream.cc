#include "ipc/socket_stream.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <limits>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "ipc/socket_io.h"

namespace zen::ipc {

SocketStream::SocketStream(UniqueFd fd, const StreamOptions& options)
    : fd_(std::move(fd)), options_(options), decoder_(options.max_frame_size) {}

absl::StatusOr<Frame> SocketStream::Read(absl::Time deadline) {
  for (;;) {
    absl::StatusOr<std::optional<Frame>> next = decoder_.Next();
    if (!next.ok()) return next.status();
    if (next->has_value()) return std::move(**next);
    if (shut_down_.load(std::memory_order_relaxed)) {
      return absl::UnavailableError("connection closed");
    }
    absl::Span<uint8_t> space = decoder_.PrepareWrite();
    if (drained_) {
      // The last read emptied the socket, so a read now would most likely
      // fail with EAGAIN: wait first and save that syscall.
      absl::Status ready = WaitFor(fd_.get(), POLLIN, deadline);
      if (absl::IsDeadlineExceeded(ready)) {
        return absl::DeadlineExceededError("read timed out");
      }
      if (!ready.ok()) return ready;
    }
    absl::StatusOr<size_t> n = ReadSome(fd_.get(), space, deadline);
    if (!n.ok()) return n.status();
    drained_ = *n < space.size();
    decoder_.Commit(*n);
  }
}

absl::Status SocketStream::Write(absl::Span<const absl::string_view> parts,
                                 absl::Time deadline) {
  size_t size = 0;
  for (absl::string_view part : parts) size += part.size();
  if (size > options_.max_frame_size ||
      size > std::numeric_limits<uint32_t>::max()) {
    return FrameTooLargeError(size, options_.max_frame_size);
  }
  uint8_t header[kFrameHeaderSize];
  EncodeFrameHeader(static_cast<uint32_t>(size), header);
  absl::InlinedVector<iovec, 8> iov;
  iov.push_back({header, kFrameHeaderSize});
  for (absl::string_view part : parts) {
    if (!part.empty())
      iov.push_back({const_cast<char*>(part.data()), part.size()});
  }
  MutexLock lock(&write_mu_);
  if (write_broken_) return absl::UnavailableError("connection closed");
  absl::Status written = WriteAll(fd_.get(), iov, deadline);
  // A frame cut short leaves the peer mid-frame: nothing may follow it.
  if (!written.ok()) write_broken_ = true;
  return written;
}

void SocketStream::Shutdown() {
  shut_down_.store(true, std::memory_order_relaxed);
  if (fd_.valid()) ::shutdown(fd_.get(), SHUT_RDWR);
}

void SocketStream::CloseAfterFork() { fd_.Reset(); }

}  // namespace zen::ipc
