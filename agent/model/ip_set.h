// IP addresses and sets of addresses and CIDR blocks, for the firewall lists.
//
// Lists from the API hold up to hundreds of thousands of entries and every
// request is checked against several of them, so an IpSet is built once into
// sorted, merged, non-overlapping address ranges (one array per family) and a
// lookup is a binary search: O(log n), no allocation.
//
// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are IPv4 addresses here, both
// as entries and as looked-up addresses, so a client that reaches a dual-stack
// socket as `::ffff:1.2.3.4` matches the list entry `1.2.3.4/24`. Other IPv6
// entries never match IPv4 addresses (`::/0` does not contain `1.2.3.4`).
#ifndef ZEN_AGENT_MODEL_IP_SET_H_
#define ZEN_AGENT_MODEL_IP_SET_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace zen {

// GCC and Clang both provide 128-bit integers on every platform we build for;
// they make IPv6 range arithmetic as plain as IPv4's.
using IpV6Bits = unsigned __int128;

// Room for any address in text, INET6_ADDRSTRLEN less the NUL: the longest
// form is `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`.
inline constexpr size_t kMaxIpAddressTextBytes = 45;

// Where IpAddress::Format writes; a stack buffer, so formatting allocates
// nothing.
struct IpAddressText {
  char bytes[kMaxIpAddressTextBytes];
};

// One parsed address. A value type.
struct IpAddress {
  enum class Family { kV4, kV6 };

  // Parses a textual IPv4 or IPv6 address (no port, brackets, zone or
  // prefix), as inet_pton() does. Mapped IPv6 addresses become kV4. Returns
  // nullopt for anything else.
  static std::optional<IpAddress> Parse(absl::string_view text);

  // The address in canonical form, byte for byte what inet_ntop() writes:
  // IPv4 dotted decimal; IPv6 in lower-case hex without leading zeros, the
  // first longest run of two or more zero groups written `::`, and an
  // IPv4-compatible (`::a.b.c.d`) or mapped (`::ffff:a.b.c.d`) tail dotted.
  // The view points into `*text`.
  absl::string_view Format(IpAddressText* text) const;

  Family family = Family::kV4;
  // The address as a big-endian number; IPv4 uses the low 32 bits.
  IpV6Bits bits = 0;
};

// An immutable set of addresses and CIDR blocks. Copyable and movable;
// thread-safe for concurrent const use.
class IpSet {
 public:
  class Builder;

  // The empty set.
  IpSet() = default;

  // True if `address` lies in one of the set's entries.
  bool Contains(const IpAddress& address) const;
  // Parses `address` first; an unparsable address is in no set.
  bool Contains(absl::string_view address) const;

  bool empty() const { return v4_.empty() && v6_.empty(); }
  // Number of disjoint ranges after merging (not the number of entries).
  size_t range_count() const { return v4_.size() + v6_.size(); }

 private:
  std::vector<std::pair<uint32_t, uint32_t>> v4_;  // [first, last], sorted
  std::vector<std::pair<IpV6Bits, IpV6Bits>> v6_;  // [first, last], sorted
};

// Collects entries for one IpSet. Not thread-safe.
class IpSet::Builder {
 public:
  // Adds one entry: an address (`10.0.0.1`, `2001:db8::1`) or a CIDR block
  // (`10.0.0.0/8`, `2001:db8::/32`). Surrounding ASCII whitespace is ignored;
  // host bits below the prefix are ignored (`10.1.2.3/8` is `10.0.0.0/8`).
  // Returns kInvalidArgument, naming the entry, when it is neither; the
  // builder is unchanged then.
  absl::Status Add(absl::string_view entry);

  // Sorts and merges what was added. The builder is left empty.
  IpSet Build() &&;

 private:
  IpSet set_;
};

}  // namespace zen

#endif  // ZEN_AGENT_MODEL_IP_SET_H_
