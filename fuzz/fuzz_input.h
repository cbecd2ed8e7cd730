// FuzzInput: carves typed values out of a fuzzer's input bytes.
//
// clang's <fuzzer/FuzzedDataProvider.h> does the same, but the corpus replay
// tests build with GCC, which does not ship it; this is the small subset the
// targets need. Every Consume* is total: past the end it returns zeros and
// empty strings, so a target never has to check lengths.
#ifndef ZEN_FUZZ_FUZZ_INPUT_H_
#define ZEN_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace zen::fuzz {

// Not thread-safe. `data` must outlive the object.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t remaining() const { return size_ - pos_; }

  uint8_t ConsumeByte() { return pos_ < size_ ? data_[pos_++] : 0; }

  bool ConsumeBool() { return (ConsumeByte() & 1) != 0; }

  // A little-endian integer made of the next sizeof(T) bytes.
  template <typename T>
  T ConsumeInt() {
    T value = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      value =
          static_cast<T>(value | (static_cast<T>(ConsumeByte()) << (8 * i)));
    }
    return value;
  }

  // A value in [lo, hi] (inclusive), from as few bytes as the range needs.
  uint64_t ConsumeInRange(uint64_t lo, uint64_t hi) {
    if (hi <= lo) return lo;
    const uint64_t span = hi - lo;
    uint64_t value = 0;
    for (uint64_t bits = span; bits != 0; bits >>= 8) {
      value = (value << 8) | ConsumeByte();
    }
    return span == UINT64_MAX ? lo + value : lo + value % (span + 1);
  }

  // Up to `n` bytes, as a view into the input.
  absl::string_view ConsumeBytes(size_t n) {
    if (n > remaining()) n = remaining();
    absl::string_view out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }

  // Bytes up to the next occurrence of `separator` (which is consumed and not
  // returned), or all that remain if there is none. Lets one input carry
  // several texts that a mutator can grow independently.
  absl::string_view ConsumeUntil(absl::string_view separator) {
    absl::string_view rest(reinterpret_cast<const char*>(data_ + pos_),
                           remaining());
    const size_t at = rest.find(separator);
    if (at == absl::string_view::npos) {
      pos_ = size_;
      return rest;
    }
    pos_ += at + separator.size();
    return rest.substr(0, at);
  }

  absl::string_view ConsumeRemaining() { return ConsumeBytes(remaining()); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// A deterministic generator seeded by the input, for decisions (chunk sizes,
// which frames to keep) that would waste input bytes if consumed one by one.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // In [0, n); 0 when n is 0.
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }

 private:
  uint64_t state_;
};

}  // namespace zen::fuzz

#endif  // ZEN_FUZZ_FUZZ_INPUT_H_
