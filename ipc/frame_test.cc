#include "ipc/frame.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace zen::ipc {
namespace {

std::string Framed(const std::string& body) {
  uint8_t header[kFrameHeaderSize];
  EncodeFrameHeader(static_cast<uint32_t>(body.size()), header);
  return std::string(reinterpret_cast<char*>(header), kFrameHeaderSize) + body;
}

// Feeds `bytes` in pieces of `chunk` bytes and collects every frame.
std::vector<std::string> Decode(FrameDecoder& decoder, const std::string& bytes,
                                size_t chunk) {
  std::vector<std::string> frames;
  size_t pos = 0;
  while (pos < bytes.size()) {
    absl::Span<uint8_t> space = decoder.PrepareWrite();
    const size_t n = std::min({chunk, space.size(), bytes.size() - pos});
    std::memcpy(space.data(), bytes.data() + pos, n);
    decoder.Commit(n);
    pos += n;
    for (;;) {
      auto next = decoder.Next();
      EXPECT_TRUE(next.ok()) << next.status();
      if (!next.ok() || !next->has_value()) break;
      frames.emplace_back((*next)->body);
    }
  }
  return frames;
}

TEST(FrameTest, HeaderIsBigEndian) {
  uint8_t header[4];
  EncodeFrameHeader(0x01020304, header);
  EXPECT_EQ(header[0], 1);
  EXPECT_EQ(header[3], 4);
  EncodeFrameHeader(0x80, header);  // A byte >= 0x80 (reference fix c173e56).
  EXPECT_EQ(header[3], 0x80);
}

TEST(FrameDecoderTest, ManyFramesInOneChunk) {
  FrameDecoder decoder(1 << 20);
  std::string bytes;
  for (int i = 0; i < 100; ++i) bytes += Framed("frame" + std::to_string(i));
  auto frames = Decode(decoder, bytes, bytes.size());
  ASSERT_EQ(frames.size(), 100u);
  EXPECT_EQ(frames[42], "frame42");
}

TEST(FrameDecoderTest, FrameDribbledByteByByte) {
  FrameDecoder decoder(1 << 20);
  const std::string body(70000, 'q');
  auto frames = Decode(decoder, Framed(body) + Framed(""), 1);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], body);
  EXPECT_EQ(frames[1], "");
}

TEST(FrameDecoderTest, ZeroLengthFrameIsAFrame) {
  FrameDecoder decoder(64);
  auto frames = Decode(decoder, Framed(""), 4);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].empty());
}

TEST(FrameDecoderTest, MaxSizeAllowedAndOneMoreRejected) {
  FrameDecoder ok(64);
  EXPECT_EQ(Decode(ok, Framed(std::string(64, 'a')), 1000).size(), 1u);
  FrameDecoder too_big(64);
  absl::Span<uint8_t> space = too_big.PrepareWrite();
  const std::string bytes = Framed(std::string(65, 'a'));
  std::memcpy(space.data(), bytes.data(), bytes.size());
  too_big.Commit(bytes.size());
  auto next = too_big.Next();
  EXPECT_EQ(next.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(next.status().message(), "frame too large: 65 bytes (max: 64)");
}

TEST(FrameDecoderTest, HugeDeclaredLengthAllocatesNothingLarge) {
  // Even with no limit at all, a 4 GiB header followed by 3 bytes must not
  // make the decoder reserve gigabytes: memory follows received bytes.
  FrameDecoder decoder(std::numeric_limits<size_t>::max());
  absl::Span<uint8_t> space = decoder.PrepareWrite();
  const uint8_t bytes[7] = {0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c'};
  std::memcpy(space.data(), bytes, sizeof(bytes));
  decoder.Commit(sizeof(bytes));
  auto next = decoder.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  EXPECT_LE(decoder.PrepareWrite().size(), size_t{1} << 20);
}

TEST(FrameDecoderTest, FourGibHeaderRejectedByDefaultLimit) {
  FrameDecoder decoder(size_t{32} << 20);
  absl::Span<uint8_t> space = decoder.PrepareWrite();
  const uint8_t bytes[4] = {0xff, 0xff, 0xff, 0xff};
  std::memcpy(space.data(), bytes, sizeof(bytes));
  decoder.Commit(sizeof(bytes));
  EXPECT_EQ(decoder.Next().status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(FrameDecoderTest, FramesOutliveLaterReads) {
  FrameDecoder decoder(1 << 20);
  std::vector<Frame> kept;
  const std::string bytes = Framed("first") + Framed(std::string(300000, 'z'));
  size_t pos = 0;
  while (pos < bytes.size()) {
    absl::Span<uint8_t> space = decoder.PrepareWrite();
    const size_t n = std::min<size_t>({1000, space.size(), bytes.size() - pos});
    std::memcpy(space.data(), bytes.data() + pos, n);
    decoder.Commit(n);
    pos += n;
    for (auto next = decoder.Next(); next.ok() && next->has_value();
         next = decoder.Next()) {
      kept.push_back(**next);
    }
  }
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].body, "first");  // Still valid after the buffer moved.
  EXPECT_EQ(kept[1].body.size(), 300000u);
}

TEST(FrameDecoderTest, NewBytesNeverLandInAHeldFramesPadding) {
  FrameDecoder decoder(1 << 20);
  const std::string bytes = Framed("held");
  absl::Span<uint8_t> space = decoder.PrepareWrite();
  std::memcpy(space.data(), bytes.data(), bytes.size());
  decoder.Commit(bytes.size());
  auto next = decoder.Next();
  ASSERT_TRUE(next.ok() && next->has_value());
  const Frame held = **next;
  const uint8_t* padding_end =
      reinterpret_cast<const uint8_t*>(held.body.data() + held.body.size()) +
      kFramePadding;
  absl::Span<uint8_t> after = decoder.PrepareWrite();
  EXPECT_GE(after.data(), padding_end);
  // And the stream still decodes from there.
  const std::string more = Framed("more");
  std::memcpy(after.data(), more.data(), more.size());
  decoder.Commit(more.size());
  auto second = decoder.Next();
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->body, "more");
  EXPECT_EQ(held.body, "held");
}

}  // namespace
}  // namespace zen::ipc

namespace zen::ipc {
namespace {

// Feeds all of `bytes` and returns the first frame or error.
absl::StatusOr<std::optional<Frame>> FeedAll(FrameDecoder& decoder,
                                             const std::string& bytes) {
  size_t pos = 0;
  for (;;) {
    absl::StatusOr<std::optional<Frame>> next = decoder.Next();
    if (!next.ok() || next->has_value() || pos == bytes.size()) return next;
    absl::Span<uint8_t> space = decoder.PrepareWrite();
    const size_t n = std::min(space.size(), bytes.size() - pos);
    std::memcpy(space.data(), bytes.data() + pos, n);
    decoder.Commit(n);
    pos += n;
  }
}

TEST(FrameBudgetTest, LargeFramesShareOneBudgetUntilTheirBytesAreFreed) {
  auto budget = std::make_shared<FrameBudget>(1 << 20);
  const std::string large = Framed(std::string(600 << 10, 'x'));
  constexpr size_t kMax = size_t{32} << 20;
  auto a = std::make_unique<FrameDecoder>(kMax, budget);
  FrameDecoder b(kMax, budget);
  absl::StatusOr<std::optional<Frame>> first = FeedAll(*a, large);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ(budget->held(), size_t{600} << 10);
  // The second large frame does not fit beside the first: refused at its
  // header, before its body is buffered.
  absl::StatusOr<std::optional<Frame>> second = FeedAll(b, large);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(budget->refused(), 1u);
  // Small frames are not counted.
  FrameDecoder c(kMax, budget);
  absl::StatusOr<std::optional<Frame>> small = FeedAll(c, Framed("[1]"));
  ASSERT_TRUE(small.ok() && small->has_value());
  // Given back once the frame and its decoder let go of the bytes.
  first->reset();
  a.reset();
  EXPECT_EQ(budget->held(), 0u);
  FrameDecoder d(kMax, budget);
  absl::StatusOr<std::optional<Frame>> third = FeedAll(d, large);
  ASSERT_TRUE(third.ok() && third->has_value());
}

}  // namespace
}  // namespace zen::ipc
