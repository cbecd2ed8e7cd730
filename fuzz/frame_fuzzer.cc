// Fuzzes ipc::FrameDecoder: an arbitrary byte stream, cut into arbitrary
// chunks, some decoded frames held while later bytes arrive.
//
// Input: one byte picks the maximum frame size, eight seed the generator
// that picks chunk sizes and which frames to keep; the rest is the stream.
// Checked against a plain model of the framing: the same frames in the same
// order with the same bytes, kResourceExhausted exactly when a header
// declares more than the maximum, held frames never overwritten, and the
// buffer offered for reading bounded by what has arrived, never by what a
// header declared.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "ipc/frame.h"

namespace zen::fuzz {
namespace {

constexpr size_t kMaxFrameSizes[] = {
    0, 1, 4, 100, 65536, size_t{1} << 20, size_t{32} << 20};

// What the stream holds, by the protocol's definition.
struct Expected {
  std::vector<std::string> frames;
  bool too_large = false;  // The last header declares more than the max.
};

Expected Model(absl::string_view stream, size_t max_frame_size) {
  Expected out;
  size_t pos = 0;
  while (stream.size() - pos >= ipc::kFrameHeaderSize) {
    const auto* p = reinterpret_cast<const uint8_t*>(stream.data() + pos);
    const uint32_t size = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                          (uint32_t{p[2]} << 8) | uint32_t{p[3]};
    if (size > max_frame_size) {
      out.too_large = true;
      break;
    }
    if (stream.size() - pos - ipc::kFrameHeaderSize < size) break;
    out.frames.emplace_back(stream.substr(pos + ipc::kFrameHeaderSize, size));
    pos += ipc::kFrameHeaderSize + size;
  }
  return out;
}

struct Held {
  ipc::Frame frame;
  std::string copy;
};

void Run(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const size_t max_frame_size =
      kMaxFrameSizes[input.ConsumeByte() % std::size(kMaxFrameSizes)];
  SplitMix64 rng(input.ConsumeInt<uint64_t>());
  const absl::string_view stream = input.ConsumeRemaining();
  const Expected expected = Model(stream, max_frame_size);

  ipc::FrameDecoder decoder(max_frame_size);
  std::vector<Held> held;
  size_t fed = 0;
  size_t next_frame = 0;
  size_t peak_buffered = 0;
  bool failed = false;
  while (!failed) {
    // Decode everything that is complete.
    for (;;) {
      absl::StatusOr<std::optional<ipc::Frame>> next = decoder.Next();
      if (!next.ok()) {
        FUZZ_CHECK(absl::IsResourceExhausted(next.status()));
        FUZZ_CHECK(expected.too_large);
        FUZZ_CHECK(next_frame == expected.frames.size());
        failed = true;
        break;
      }
      if (!next->has_value()) break;
      const ipc::Frame& frame = **next;
      FUZZ_CHECK(next_frame < expected.frames.size());
      FUZZ_CHECK(frame.body == expected.frames[next_frame]);
      // The padding promised after every body must be readable (ASan
      // reports it if not); its content is unspecified.
      volatile char sink = 0;
      for (size_t i = 0; i < ipc::kFramePadding; ++i) {
        sink = sink ^ frame.body.data()[frame.body.size() + i];
      }
      ++next_frame;
      if (rng.Below(3) == 0) held.push_back({frame, std::string(frame.body)});
    }
    if (failed) break;
    // Release some held frames, and check the rest are intact.
    for (size_t i = 0; i < held.size();) {
      FUZZ_CHECK(held[i].frame.body == held[i].copy);
      if (rng.Below(4) == 0) {
        held[i] = std::move(held.back());
        held.pop_back();
      } else {
        ++i;
      }
    }
    if (fed == stream.size()) break;

    peak_buffered = std::max(peak_buffered, decoder.buffered());
    absl::Span<uint8_t> space = decoder.PrepareWrite();
    FUZZ_CHECK(!space.empty());
    // Memory follows the bytes received: a declared length alone never
    // makes the decoder offer (allocate) more.
    FUZZ_CHECK(space.size() <=
               2 * std::max(peak_buffered, ipc::kReadChunkSize));
    // Chunk sizes spread over 1 byte .. whole remainder, small ones likely.
    const size_t left = stream.size() - fed;
    size_t chunk;
    switch (rng.Below(4)) {
      case 0:
        chunk = 1;
        break;
      case 1:
        chunk = 1 + rng.Below(8);
        break;
      case 2:
        chunk = 1 + rng.Below(256);
        break;
      default:
        chunk = left;
    }
    chunk = std::min({chunk, left, space.size()});
    std::memcpy(space.data(), stream.data() + fed, chunk);
    decoder.Commit(chunk);
    fed += chunk;
  }
  if (!failed) {
    FUZZ_CHECK(next_frame == expected.frames.size());
    FUZZ_CHECK(!expected.too_large);
  }
  for (const Held& h : held) FUZZ_CHECK(h.frame.body == h.copy);
}

}  // namespace
}  // namespace zen::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zen::fuzz::Run(data, size);
  return 0;
}
