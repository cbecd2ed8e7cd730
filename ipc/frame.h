// Framing: a 4-byte unsigned big-endian length N, then N body bytes.
//
// FrameDecoder turns a byte stream, delivered in any chunking, into frames.
// It knows nothing of sockets, so it is fuzzed and unit-tested on its own.
#ifndef ZEN_IPC_FRAME_H_
#define ZEN_IPC_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ipc/frame_budget.h"

namespace zen::ipc {

inline constexpr size_t kFrameHeaderSize = 4;

// Readable bytes guaranteed after the end of every decoded body, so SIMD
// parsers may read past it. Their content is unspecified. The one padding
// constant: codegen_runtime::kJsonPadding is this, and the layers that parse
// with simdjson static_assert that it covers simdjson::SIMDJSON_PADDING.
inline constexpr size_t kFramePadding = 64;

// Bytes asked of the kernel per read when no larger frame is pending (the
// reference's READ_CHUNK_SIZE).
inline constexpr size_t kReadChunkSize = 64 * 1024;

// One received frame body. `body` stays valid, followed by kFramePadding
// readable bytes, for as long as this Frame (or a copy of it) lives.
struct Frame {
  absl::string_view body;
  std::shared_ptr<const void> storage;  // Keeps `body`'s bytes alive.
};

// Writes the big-endian header for a body of `size` bytes.
void EncodeFrameHeader(uint32_t size, uint8_t out[kFrameHeaderSize]);

// The "frame too large" error, as the reference words it.
absl::Status FrameTooLargeError(uint64_t size, size_t max);

// Reassembles frames from a byte stream. Memory grows with the bytes actually
// received (never with a declared length): a header declaring more than
// `max_frame_size` is an error before any body byte is buffered. With a
// `budget`, a frame over kUnbudgetedFrameBytes takes its size from it when
// its header arrives, and gives it back when the last Frame holding its
// bytes is gone; a frame the budget cannot take is an error
// (kResourceExhausted) before any body byte is buffered.
//
// Not thread-safe: one reader at a time.
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_frame_size,
                        std::shared_ptr<FrameBudget> budget = nullptr);
  ~FrameDecoder();
  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;

  // Space to read into: at least one byte, at most what the pending frame
  // still needs or kReadChunkSize, whichever is larger. Valid until the next
  // call of any method.
  absl::Span<uint8_t> PrepareWrite();

  // Records that `n` bytes were written at the start of PrepareWrite()'s span.
  void Commit(size_t n);

  // The next complete frame, nullopt if more bytes are needed, or
  // kResourceExhausted if the pending header declares too large a body (the
  // stream is then unusable).
  absl::StatusOr<std::optional<Frame>> Next();

  // Bytes received but not yet returned as frames.
  size_t buffered() const { return end_ - begin_; }

 private:
  struct Chunk;
  // Ensures `want` free bytes after end_, compacting or moving to a new chunk.
  void Reserve(size_t want);

  const size_t max_frame_size_;
  const std::shared_ptr<FrameBudget> budget_;  // May be null.
  size_t pending_charge_ = 0;  // Taken for the frame being received.
  std::shared_ptr<Chunk> chunk_;
  size_t begin_ = 0;       // First unconsumed byte in chunk_.
  size_t end_ = 0;         // One past the last received byte.
  size_t handed_end_ = 0;  // End of the last body returned from chunk_.
};

}  // namespace zen::ipc

#endif  // ZEN_IPC_FRAME_H_
