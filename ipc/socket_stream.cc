#include "ipc/socket_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/status_macros.h"
#include "ipc/receive_timeout.h"
#include "ipc/socket_io.h"

namespace zen::ipc {
namespace {

// Frames up to this size (header included) are written from one buffer.
constexpr size_t kCoalescedFrameBytes = 1024;

}  // namespace

SocketStream::SocketStream(UniqueFd fd, const StreamOptions& options)
    : fd_(std::move(fd)),
      options_(options),
      decoder_(options.max_frame_size, options.frame_budget) {
  const int flags = ::fcntl(fd_.get(), F_GETFL);
  blocking_reads_ =
      flags >= 0 && ::fcntl(fd_.get(), F_SETFL, flags & ~O_NONBLOCK) == 0;
}

absl::StatusOr<Frame> SocketStream::Read(absl::Time deadline) {
  for (;;) {
    // Not moved out of the StatusOr: GCC's -O1 (the sanitizer configs) then
    // warns that the Frame's shared_ptr may be used uninitialized.
    absl::StatusOr<std::optional<Frame>> next = decoder_.Next();
    ZEN_RETURN_IF_ERROR(next.status());
    if (next->has_value()) return std::move(**next);
    if (shut_down_.load(std::memory_order_relaxed)) {
      return absl::UnavailableError("connection closed");
    }
    absl::Span<uint8_t> space = decoder_.PrepareWrite();
    ZEN_ASSIGN_OR_RETURN(const size_t n, Receive(space, deadline));
    drained_ = n < space.size();
    decoder_.Commit(n);
  }
}

absl::StatusOr<size_t> SocketStream::Receive(absl::Span<uint8_t> space,
                                             absl::Time deadline) {
  // Spin first (StreamOptions::spin_before_block), but only when the last
  // receive emptied the socket: otherwise bytes are most likely there.
  absl::Time spin_until = absl::InfinitePast();
  if (drained_ && options_.spin_before_block > absl::ZeroDuration()) {
    spin_until = std::min(deadline, zen::Now() + options_.spin_before_block);
  }
  // Once polled, a wait stays polled to its deadline (ReceiveTimeout).
  bool polling = !blocking_reads_;
  for (;;) {
    const bool spinning = spin_until != absl::InfinitePast();
    int flags = MSG_DONTWAIT;
    if (!spinning && !polling) {
      const ReceiveTimeout::Plan plan =
          timeout_.PlanWaitUntil(deadline, zen::Now());
      polling = plan.poll;
      if (!polling) {
        flags = 0;  // Blocks, for up to plan.timeout.
        if (plan.arm) {
          const timeval tv = ReceiveTimeout::ToTimeval(plan.timeout);
          if (::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv,
                           sizeof(tv)) != 0) {
            return ErrnoStatus("setsockopt(SO_RCVTIMEO)", errno);
          }
          timeout_.Armed(plan.timeout);
        }
      }
    }
    if (polling && drained_) {
      // The last receive emptied the socket, so one now would most likely
      // find nothing: wait first and save that syscall.
      absl::Status ready = WaitFor(fd_.get(), POLLIN, deadline);
      if (absl::IsDeadlineExceeded(ready)) {
        return absl::DeadlineExceededError("read timed out");
      }
      ZEN_RETURN_IF_ERROR(ready);
    }
    absl::StatusOr<size_t> n = ReceiveOnce(fd_.get(), space, flags);
    if (!n.ok() || *n > 0) return n;
    // Nothing came.
    if (spinning) {
      if (shut_down_.load(std::memory_order_relaxed)) {
        return absl::UnavailableError("connection closed");
      }
      // A thread waiting for this CPU (the peer, when both share it) runs
      // first; alone on its CPU this returns at once.
      ::sched_yield();
      if (zen::Now() >= spin_until) spin_until = absl::InfinitePast();
    } else if (polling) {
      drained_ = true;
      if (zen::Now() >= deadline) {
        return absl::DeadlineExceededError("read timed out");
      }
    }
    // Else the blocking recv timed out (or was interrupted): plan again.
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
  // A small frame is copied into one buffer: the kernel's cost per iovec
  // segment is more than a copy of a few hundred bytes (docs/benchmarks.md).
  // A large one goes out gathered, as it lies.
  uint8_t small[kCoalescedFrameBytes];
  absl::InlinedVector<iovec, 16> iov;
  if (kFrameHeaderSize + size <= sizeof(small)) {
    EncodeFrameHeader(static_cast<uint32_t>(size), small);
    uint8_t* end = small + kFrameHeaderSize;
    for (absl::string_view part : parts) {
      if (part.empty()) continue;  // Its data() may be null: no memcpy.
      std::memcpy(end, part.data(), part.size());
      end += part.size();
    }
    iov.push_back({small, static_cast<size_t>(end - small)});
  } else {
    EncodeFrameHeader(static_cast<uint32_t>(size), small);
    iov.push_back({small, kFrameHeaderSize});
    for (absl::string_view part : parts) {
      if (!part.empty())
        iov.push_back({const_cast<char*>(part.data()), part.size()});
    }
  }
  MutexLock lock(&write_mu_);
  if (write_broken_) return absl::UnavailableError("connection closed");
  size_t sent = 0;
  absl::Status written = WriteAll(fd_.get(), iov, deadline, &sent);
  if (written.ok()) return written;
  // Nothing of the frame left before the deadline (the peer's window stayed
  // full): the stream is as it was, and later frames may still go.
  if (absl::IsDeadlineExceeded(written) && sent == 0) return written;
  // A frame cut short leaves the peer mid-frame: nothing may follow it.
  write_broken_ = true;
  if (absl::IsDeadlineExceeded(written)) {
    return absl::UnavailableError(
        "write timed out mid-frame; the connection is unusable");
  }
  return written;
}

void SocketStream::Shutdown() {
  shut_down_.store(true, std::memory_order_relaxed);
  if (fd_.valid()) ::shutdown(fd_.get(), SHUT_RDWR);
}

void SocketStream::CloseAfterFork() { fd_.Reset(); }

}  // namespace zen::ipc
