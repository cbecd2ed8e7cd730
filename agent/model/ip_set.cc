#include "agent/model/ip_set.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace zen {
namespace {

// Longest textual address inet_pton() can accept (an IPv6 address with an
// embedded IPv4 tail), without the terminating NUL.
constexpr size_t kMaxAddressText = INET6_ADDRSTRLEN - 1;
static_assert(kMaxIpAddressTextBytes == kMaxAddressText);

constexpr IpV6Bits kMappedPrefix = 0xFFFF;  // ::ffff:0:0/96, shifted right 32

// Parses one address without normalizing mapped addresses. inet_pton() wants
// a NUL-terminated string, so the bounded text is copied to the stack first.
bool ParseRaw(absl::string_view text, IpAddress* out) {
  if (text.empty() || text.size() > kMaxAddressText) return false;
  char buffer[kMaxAddressText + 1];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  if (text.find(':') == absl::string_view::npos) {
    unsigned char bytes[4];
    if (inet_pton(AF_INET, buffer, bytes) != 1) return false;
    out->family = IpAddress::Family::kV4;
    out->bits = (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) |
                (uint32_t{bytes[2]} << 8) | uint32_t{bytes[3]};
    return true;
  }
  unsigned char bytes[16];
  if (inet_pton(AF_INET6, buffer, bytes) != 1) return false;
  IpV6Bits bits = 0;
  for (unsigned char byte : bytes) bits = (bits << 8) | byte;
  out->family = IpAddress::Family::kV6;
  out->bits = bits;
  return true;
}

// IpAddress::Format's pieces, each writing at `out` and returning the end.
// glibc's inet_ntop() formats with sprintf, a few hundred instructions per
// number; the rate limiter formats every request's IP.

char* AppendDecimalByte(uint32_t value, char* out) {
  if (value >= 100) *out++ = static_cast<char>('0' + value / 100);
  if (value >= 10) *out++ = static_cast<char>('0' + value / 10 % 10);
  *out++ = static_cast<char>('0' + value % 10);
  return out;
}

char* AppendDottedQuad(uint32_t address, char* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out = AppendDecimalByte((address >> shift) & 0xFF, out);
    if (shift > 0) *out++ = '.';
  }
  return out;
}

// One IPv6 group in lower-case hex without leading zeros ("0" for zero).
char* AppendHexGroup(uint32_t group, char* out) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  int shift = 12;
  while (shift > 0 && ((group >> shift) & 0xF) == 0) shift -= 4;
  for (; shift >= 0; shift -= 4) *out++ = kHexDigits[(group >> shift) & 0xF];
  return out;
}

// A run of zero groups: [begin, begin + length); begin -1 when none.
struct ZeroRun {
  int begin = -1;
  int length = 0;
  bool Holds(int group) const {
    return begin >= 0 && group >= begin && group < begin + length;
  }
};

// The run inet_ntop() writes as `::`: the first of the longest runs of zero
// groups, if it is at least two groups long.
ZeroRun CompressedZeros(const uint16_t (&groups)[8]) {
  ZeroRun best, current;
  for (int i = 0; i < 8; ++i) {
    if (groups[i] != 0) {
      current = ZeroRun();
      continue;
    }
    if (current.begin < 0) current.begin = i;
    ++current.length;
    if (current.length > best.length) best = current;
  }
  return best.length >= 2 ? best : ZeroRun();
}

char* AppendIpv6(IpV6Bits bits, char* out) {
  uint16_t groups[8];
  for (int i = 0; i < 8; ++i) {
    groups[i] = static_cast<uint16_t>(bits >> (16 * (7 - i)));
  }
  const ZeroRun zeros = CompressedZeros(groups);
  for (int i = 0; i < 8; ++i) {
    if (zeros.Holds(i)) {
      if (i == zeros.begin) *out++ = ':';
      continue;
    }
    if (i != 0) *out++ = ':';
    // inet_ntop() dots the last 32 bits of ::a.b.c.d and ::ffff:a.b.c.d.
    if (i == 6 && zeros.begin == 0 &&
        (zeros.length == 6 || (zeros.length == 5 && groups[5] == 0xFFFF))) {
      return AppendDottedQuad(static_cast<uint32_t>(bits), out);
    }
    out = AppendHexGroup(groups[i], out);
  }
  if (zeros.begin >= 0 && zeros.begin + zeros.length == 8) *out++ = ':';
  return out;
}

bool IsMapped(const IpAddress& address) {
  return address.family == IpAddress::Family::kV6 &&
         (address.bits >> 32) == kMappedPrefix;
}

IpAddress ToV4(const IpAddress& mapped) {
  IpAddress v4;
  v4.family = IpAddress::Family::kV4;
  v4.bits = static_cast<uint32_t>(mapped.bits);
  return v4;
}

// Sorts ranges and merges the overlapping and adjacent ones.
template <typename T>
void SortAndMerge(std::vector<std::pair<T, T>>* ranges) {
  std::sort(ranges->begin(), ranges->end());
  std::vector<std::pair<T, T>> merged;
  merged.reserve(ranges->size());
  for (const auto& range : *ranges) {
    if (!merged.empty()) {
      auto& last = merged.back();
      // `last.second + 1` cannot overflow here: if last.second were the
      // maximum, range.first <= last.second would already hold.
      if (range.first <= last.second || range.first == last.second + 1) {
        last.second = std::max(last.second, range.second);
        continue;
      }
    }
    merged.push_back(range);
  }
  merged.shrink_to_fit();
  *ranges = std::move(merged);
}

template <typename T>
bool RangesContain(const std::vector<std::pair<T, T>>& ranges, T value) {
  // The last range starting at or before `value` is the only candidate.
  auto it = std::upper_bound(
      ranges.begin(), ranges.end(), value,
      [](T v, const std::pair<T, T>& range) { return v < range.first; });
  if (it == ranges.begin()) return false;
  --it;
  return value <= it->second;
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(absl::string_view text) {
  IpAddress address;
  if (!ParseRaw(text, &address)) return std::nullopt;
  if (IsMapped(address)) return ToV4(address);
  return address;
}

absl::string_view IpAddress::Format(IpAddressText* text) const {
  char* const begin = text->bytes;
  char* const end = family == Family::kV4
                        ? AppendDottedQuad(static_cast<uint32_t>(bits), begin)
                        : AppendIpv6(bits, begin);
  return absl::string_view(begin, static_cast<size_t>(end - begin));
}

bool IpSet::Contains(const IpAddress& address) const {
  if (address.family == IpAddress::Family::kV4) {
    return RangesContain(v4_, static_cast<uint32_t>(address.bits));
  }
  return RangesContain(v6_, address.bits);
}

bool IpSet::Contains(absl::string_view address) const {
  if (empty()) return false;
  const std::optional<IpAddress> parsed = IpAddress::Parse(address);
  return parsed.has_value() && Contains(*parsed);
}

absl::Status IpSet::Builder::Add(absl::string_view entry) {
  const absl::string_view text = absl::StripAsciiWhitespace(entry);
  // Quote at most a bounded prefix of the entry in the error: the documents
  // come from the network.
  auto invalid = [entry](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid IP address or CIDR block \"",
                     entry.substr(0, 2 * kMaxAddressText), "\": ", why));
  };

  absl::string_view address_text = text;
  std::optional<int> prefix;
  const size_t slash = text.find('/');
  if (slash != absl::string_view::npos) {
    address_text = text.substr(0, slash);
    const absl::string_view prefix_text = text.substr(slash + 1);
    int value = 0;
    if (prefix_text.empty() || prefix_text.size() > 3 ||
        !std::all_of(prefix_text.begin(), prefix_text.end(),
                     [](char c) { return absl::ascii_isdigit(c); }) ||
        !absl::SimpleAtoi(prefix_text, &value)) {
      return invalid("prefix length is not a number");
    }
    prefix = value;
  }

  IpAddress address;
  if (!ParseRaw(address_text, &address)) return invalid("not an IP address");
  const int width = address.family == IpAddress::Family::kV4 ? 32 : 128;
  int length = prefix.value_or(width);
  if (length > width) {
    return invalid(absl::StrCat("prefix length over ", width));
  }
  // A mapped block entirely inside ::ffff:0:0/96 is an IPv4 block; wider
  // blocks stay IPv6 (see the header).
  if (IsMapped(address) && length >= 96) {
    address = ToV4(address);
    length -= 96;
  }

  if (address.family == IpAddress::Family::kV4) {
    const uint32_t value = static_cast<uint32_t>(address.bits);
    const uint32_t host_mask =
        length == 0 ? ~uint32_t{0} : (uint32_t{1} << (32 - length)) - 1;
    set_.v4_.emplace_back(value & ~host_mask, value | host_mask);
  } else {
    const IpV6Bits all = ~IpV6Bits{0};
    const IpV6Bits host_mask =
        length == 0 ? all : (IpV6Bits{1} << (128 - length)) - 1;
    set_.v6_.emplace_back(address.bits & ~host_mask, address.bits | host_mask);
  }
  return absl::OkStatus();
}

IpSet IpSet::Builder::Build() && {
  SortAndMerge(&set_.v4_);
  SortAndMerge(&set_.v6_);
  IpSet result = std::move(set_);
  set_ = IpSet();
  return result;
}

}  // namespace zen
