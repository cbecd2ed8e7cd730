#include "ipc/frame.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace zen::ipc {

struct FrameDecoder::Chunk {
  explicit Chunk(size_t usable)
      : data(new uint8_t[usable + kFramePadding]), capacity(usable) {}
  ~Chunk() {
    if (charged > 0) budget->Release(charged);
  }
  std::unique_ptr<uint8_t[]> data;
  size_t capacity;  // Usable bytes; kFramePadding more follow.
  // Budget taken by the large frames handed out from this chunk, given back
  // when the last Frame pointing in (and the decoder) let go of it.
  std::shared_ptr<FrameBudget> budget;
  size_t charged = 0;
};

void EncodeFrameHeader(uint32_t size, uint8_t out[kFrameHeaderSize]) {
  out[0] = static_cast<uint8_t>(size >> 24);
  out[1] = static_cast<uint8_t>(size >> 16);
  out[2] = static_cast<uint8_t>(size >> 8);
  out[3] = static_cast<uint8_t>(size);
}

absl::Status FrameTooLargeError(uint64_t size, size_t max) {
  return absl::ResourceExhaustedError(
      absl::StrCat("frame too large: ", size, " bytes (max: ", max, ")"));
}

FrameDecoder::FrameDecoder(size_t max_frame_size,
                           std::shared_ptr<FrameBudget> budget)
    : max_frame_size_(max_frame_size), budget_(std::move(budget)) {}

FrameDecoder::~FrameDecoder() {
  if (pending_charge_ > 0) budget_->Release(pending_charge_);
}

absl::StatusOr<std::optional<Frame>> FrameDecoder::Next() {
  const size_t have = end_ - begin_;
  if (have < kFrameHeaderSize) return std::nullopt;
  const uint8_t* p = chunk_->data.get() + begin_;
  const uint32_t size = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                        (uint32_t{p[2]} << 8) | uint32_t{p[3]};
  if (size > max_frame_size_) return FrameTooLargeError(size, max_frame_size_);
  if (budget_ != nullptr && size > kUnbudgetedFrameBytes &&
      pending_charge_ == 0) {
    if (!budget_->TryAcquire(size)) {
      return absl::ResourceExhaustedError(
          absl::StrCat("frame of ", size,
                       " bytes refused: large frames being read or "
                       "handled hold the server's budget of ",
                       budget_->max_bytes(), " bytes"));
    }
    pending_charge_ = size;
  }
  if (have - kFrameHeaderSize < size) return std::nullopt;
  Frame frame{absl::string_view(
                  reinterpret_cast<const char*>(p) + kFrameHeaderSize, size),
              chunk_};
  begin_ += kFrameHeaderSize + size;
  handed_end_ = begin_;
  if (pending_charge_ > 0) {
    // The frame's bytes live as long as its chunk: so does its charge.
    chunk_->budget = budget_;
    chunk_->charged += pending_charge_;
    pending_charge_ = 0;
  }
  return frame;
}

absl::Span<uint8_t> FrameDecoder::PrepareWrite() {
  // How much the pending frame still lacks, once its header is known.
  size_t missing = 0;
  const size_t have = end_ - begin_;
  if (have >= kFrameHeaderSize) {
    const uint8_t* p = chunk_->data.get() + begin_;
    const size_t size = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) |
                        (size_t{p[2]} << 8) | size_t{p[3]};
    const size_t total = kFrameHeaderSize + std::min(size, max_frame_size_);
    if (total > have) missing = total - have;
  }
  // Grow with what has arrived, not with what was declared: a peer must send
  // bytes to make us hold bytes.
  const size_t want = std::max(
      kReadChunkSize, std::min(missing, std::max(have, kReadChunkSize)));
  Reserve(want);
  return absl::Span<uint8_t>(chunk_->data.get() + end_,
                             chunk_->capacity - end_);
}

void FrameDecoder::Commit(size_t n) { end_ += n; }

void FrameDecoder::Reserve(size_t want) {
  if (chunk_ == nullptr) {
    chunk_ = std::make_shared<Chunk>(std::max(want, 2 * kReadChunkSize));
    return;
  }
  // Frames still point into it? use_count() alone is a relaxed load that
  // orders nothing; copying the pointer first is an acq_rel increment on the
  // same counter every dropped Frame decremented (acq_rel), so once we see
  // no other owner, their reads of the bytes happen before our reuse.
  bool shared;
  {
    std::shared_ptr<Chunk> probe = chunk_;
    shared = probe.use_count() > 2;
  }
  const size_t have = end_ - begin_;
  if (!shared && have == 0) {
    begin_ = end_ = handed_end_ = 0;  // Free rewind: no frame points in.
    // Give back what one large frame made us hold.
    if (chunk_->capacity > 2 * kReadChunkSize && want <= 2 * kReadChunkSize) {
      chunk_ = std::make_shared<Chunk>(2 * kReadChunkSize);
      return;
    }
  }
  if (shared && end_ < handed_end_ + kFramePadding) {
    // New bytes must not land in the padding promised after the last frame
    // handed out: a SIMD parser may be reading it right now. Start past it,
    // carrying the (fewer than kFramePadding) unread bytes along.
    const size_t start = handed_end_ + kFramePadding;
    if (start + have + want <= chunk_->capacity) {
      std::memmove(chunk_->data.get() + start, chunk_->data.get() + begin_,
                   have);
      begin_ = start;
      end_ = start + have;
      return;
    }
  } else if (chunk_->capacity - end_ >= want) {
    return;
  }
  if (!shared && have + want <= chunk_->capacity) {
    std::memmove(chunk_->data.get(), chunk_->data.get() + begin_, have);
    begin_ = 0;
    end_ = have;
    handed_end_ = 0;
    return;
  }
  auto fresh =
      std::make_shared<Chunk>(std::max(have + want, 2 * kReadChunkSize));
  std::memcpy(fresh->data.get(), chunk_->data.get() + begin_, have);
  chunk_ = std::move(fresh);
  begin_ = 0;
  end_ = have;
  handed_end_ = 0;  // Nothing handed out from the fresh chunk yet.
}

}  // namespace zen::ipc
