#include "agent/bounded_key.h"

#include <arpa/inet.h>
#include <openssl/sha.h>

#include <cstdint>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "agent/ip_set.h"

namespace zen {
namespace {

constexpr size_t kDigestHexBytes = 2 * SHA256_DIGEST_LENGTH;

}  // namespace

std::string BoundedKey(absl::string_view key) {
  if (key.size() <= kMaxKeyBytes) return std::string(key);
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(key.data()), key.size(), digest);
  const absl::string_view prefix =
      TruncateUtf8(key, kMaxKeyBytes - kDigestHexBytes - 1);
  return absl::StrCat(
      prefix, "~",
      absl::BytesToHexString(absl::string_view(
          reinterpret_cast<const char*>(digest), sizeof(digest))));
}

std::string ClientIpKey(absl::string_view client_ip) {
  const std::optional<IpAddress> ip = IpAddress::Parse(client_ip);
  if (!ip.has_value()) return BoundedKey(client_ip);
  char text[INET6_ADDRSTRLEN];
  if (ip->family == IpAddress::Family::kV4) {
    const uint32_t host = static_cast<uint32_t>(ip->bits);
    const uint32_t net = htonl(host);
    if (inet_ntop(AF_INET, &net, text, sizeof(text)) == nullptr) {
      return BoundedKey(client_ip);
    }
  } else {
    uint8_t bytes[16];
    for (int i = 0; i < 16; ++i) {
      bytes[i] = static_cast<uint8_t>(ip->bits >> (8 * (15 - i)));
    }
    if (inet_ntop(AF_INET6, bytes, text, sizeof(text)) == nullptr) {
      return BoundedKey(client_ip);
    }
  }
  return text;
}

absl::string_view TruncateUtf8(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Back off over continuation bytes (10xxxxxx) to a character's start.
  while (end > 0 && (static_cast<uint8_t>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace zen
