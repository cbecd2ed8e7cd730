#include "examples/client_ip.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "agent/model/ip_set.h"

namespace zen::examples {
namespace {

// The address inside one X-Forwarded-For entry, or nullopt.
std::optional<absl::string_view> AddressOf(absl::string_view entry) {
  entry = absl::StripAsciiWhitespace(entry);
  if (entry.empty()) return std::nullopt;
  if (entry.front() == '[') {
    // "[v6]" or "[v6]:port".
    const size_t close = entry.find(']');
    if (close == absl::string_view::npos) return std::nullopt;
    const absl::string_view rest = entry.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return std::nullopt;
    entry = entry.substr(1, close - 1);
  } else if (entry.find(':') == entry.rfind(':') &&
             entry.find(':') != absl::string_view::npos) {
    // Exactly one colon: IPv4 with a port (bare IPv6 has at least two).
    entry = entry.substr(0, entry.find(':'));
  }
  if (!IpAddress::Parse(entry).has_value()) return std::nullopt;
  return entry;
}

}  // namespace

std::string ClientIp(absl::string_view x_forwarded_for,
                     absl::string_view peer_address) {
  for (absl::string_view entry : absl::StrSplit(x_forwarded_for, ',')) {
    if (std::optional<absl::string_view> address = AddressOf(entry)) {
      return std::string(*address);
    }
  }
  return std::string(peer_address);
}

}  // namespace zen::examples
