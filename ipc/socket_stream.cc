#include "ipc/socket_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "ipc/socket_io.h"

namespace zen::ipc {

namespace {

// The last stretch before a deadline is always waited with poll(2), which
// keeps it to the millisecond: SO_RCVTIMEO runs on the kernel's coarse timer
// wheel, which may fire up to ~1/8 of the timeout late (a 5 s one 120-170 ms
// late on the VM of docs/benchmarks.md). The stretch is a quarter of the
// wait, and at least this long.
constexpr absl::Duration kPreciseReadWait = absl::Milliseconds(50);

// Blocking waits shorter than this are not worth a setsockopt (and would
// round to a zero timeval, which means "no timeout").
constexpr absl::Duration kShortestBlockingWait = absl::Milliseconds(1);

// How to block in recv(2) for a wait of `left`.
struct BlockingWait {
  absl::Duration timeout;            // SO_RCVTIMEO wanted; infinite for none.
  absl::Duration may_exceed_by;      // A timeout in place this much longer
                                     // still ends before the deadline...
  absl::Duration may_fall_short_by;  // ...and one this much shorter costs
                                     // little more than a wake-up.
};

BlockingWait PlanBlockingWait(absl::Duration left) {
  if (left == absl::InfiniteDuration()) {
    return {absl::InfiniteDuration(), absl::ZeroDuration(),
            absl::ZeroDuration()};
  }
  const absl::Duration tail = std::max(kPreciseReadWait, left / 4);
  const absl::Duration timeout = left - tail;
  // Up to tail/4 longer: even 1/8 late, such a timeout fires before the
  // deadline ((1 - 3/16) * 9/8 < 1 of what was left).
  return {timeout, tail / 4, std::max(timeout / 4, absl::Milliseconds(100))};
}

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
    absl::StatusOr<std::optional<Frame>> next = decoder_.Next();
    if (!next.ok()) return next.status();
    if (next->has_value()) return std::move(**next);
    if (shut_down_.load(std::memory_order_relaxed)) {
      return absl::UnavailableError("connection closed");
    }
    absl::Span<uint8_t> space = decoder_.PrepareWrite();
    absl::StatusOr<size_t> n = Receive(space, deadline);
    if (!n.ok()) return n.status();
    drained_ = *n < space.size();
    decoder_.Commit(*n);
  }
}

absl::StatusOr<size_t> SocketStream::Receive(absl::Span<uint8_t> space,
                                             absl::Time deadline) {
  if (drained_ && options_.spin_before_block > absl::ZeroDuration()) {
    absl::StatusOr<size_t> n = ReceiveSpinning(space, deadline);
    if (!n.ok() || *n > 0) return n;
  }
  for (;;) {
    const BlockingWait wait = PlanBlockingWait(deadline - zen::Now());
    if (!blocking_reads_ || wait.timeout < kShortestBlockingWait) {
      return ReceivePrecisely(space, deadline);
    }
    // The timeout in place is reused unless it could overshoot, or is much
    // shorter than needed: calls with the usual deadline make no syscall.
    if (receive_timeout_ > wait.timeout + wait.may_exceed_by ||
        receive_timeout_ < wait.timeout - wait.may_fall_short_by) {
      // A zero timeval is "no timeout", which is what an infinite one means.
      const timeval tv = wait.timeout == absl::InfiniteDuration()
                             ? timeval{0, 0}
                             : absl::ToTimeval(wait.timeout);
      if (::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) !=
          0) {
        return ErrnoStatus("setsockopt(SO_RCVTIMEO)", errno);
      }
      receive_timeout_ = wait.timeout;
    }
    absl::StatusOr<size_t> n = ReceiveOnce(fd_.get(), space, 0);
    if (!n.ok() || *n > 0) return n;
    // Timed out (or interrupted): judge the deadline again.
  }
}

absl::StatusOr<size_t> SocketStream::ReceiveSpinning(absl::Span<uint8_t> space,
                                                     absl::Time deadline) {
  const absl::Time until =
      std::min(deadline, zen::Now() + options_.spin_before_block);
  do {
    absl::StatusOr<size_t> n = ReceiveOnce(fd_.get(), space, MSG_DONTWAIT);
    if (!n.ok() || *n > 0) return n;
    if (shut_down_.load(std::memory_order_relaxed)) {
      return absl::UnavailableError("connection closed");
    }
    // A thread waiting for this CPU (the peer, when both share it) runs
    // first; alone on its CPU this returns at once.
    ::sched_yield();
  } while (zen::Now() < until);
  return 0;
}

absl::StatusOr<size_t> SocketStream::ReceivePrecisely(absl::Span<uint8_t> space,
                                                      absl::Time deadline) {
  for (;;) {
    if (drained_) {
      // The last receive emptied the socket, so one now would most likely
      // find nothing: wait first and save that syscall.
      absl::Status ready = WaitFor(fd_.get(), POLLIN, deadline);
      if (absl::IsDeadlineExceeded(ready)) {
        return absl::DeadlineExceededError("read timed out");
      }
      if (!ready.ok()) return ready;
    }
    absl::StatusOr<size_t> n = ReceiveOnce(fd_.get(), space, MSG_DONTWAIT);
    if (!n.ok() || *n > 0) return n;
    drained_ = true;
    if (zen::Now() >= deadline) {
      return absl::DeadlineExceededError("read timed out");
    }
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
