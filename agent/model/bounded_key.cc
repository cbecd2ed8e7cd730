#include "agent/model/bounded_key.h"

#include <openssl/sha.h>

#include <cstdint>
#include <cstring>

namespace zen {
namespace {

constexpr size_t kDigestHexBytes = 2 * SHA256_DIGEST_LENGTH;

// Copies `bytes` to `out` and returns the end.
char* Append(absl::string_view bytes, char* out) {
  std::memcpy(out, bytes.data(), bytes.size());
  return out + bytes.size();
}

// The digest in lower-case hex, as absl::BytesToHexString writes it.
char* AppendHex(const uint8_t (&digest)[SHA256_DIGEST_LENGTH], char* out) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  for (uint8_t byte : digest) {
    *out++ = kHexDigits[byte >> 4];
    *out++ = kHexDigits[byte & 0xF];
  }
  return out;
}

}  // namespace

std::string BoundedKey(absl::string_view key) {
  KeyBuffer buffer;
  return std::string(BoundedKeyView(key, &buffer));
}

std::string ClientIpKey(absl::string_view client_ip) {
  KeyBuffer buffer;
  return std::string(
      ClientIpKeyView(client_ip, IpAddress::Parse(client_ip), &buffer));
}

absl::string_view BoundedKeyView(absl::string_view key, KeyBuffer* buffer) {
  if (key.size() <= kMaxKeyBytes) return key;
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(key.data()), key.size(), digest);
  const absl::string_view prefix =
      TruncateUtf8(key, kMaxKeyBytes - kDigestHexBytes - 1);
  char* end = Append(prefix, buffer->bytes);
  *end++ = '~';
  end = AppendHex(digest, end);
  return absl::string_view(buffer->bytes,
                           static_cast<size_t>(end - buffer->bytes));
}

absl::string_view ClientIpKeyView(absl::string_view client_ip,
                                  const std::optional<IpAddress>& ip,
                                  KeyBuffer* buffer) {
  if (!ip.has_value()) return BoundedKeyView(client_ip, buffer);
  static_assert(kMaxIpAddressTextBytes <= kMaxKeyBytes);
  IpAddressText text;
  const absl::string_view canonical = ip->Format(&text);
  Append(canonical, buffer->bytes);
  return absl::string_view(buffer->bytes, canonical.size());
}

std::string BoundedText(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  if (max_bytes < kBoundedTextDigestHex + 2) {
    return std::string(TruncateUtf8(text, max_bytes));
  }
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(text.data()), text.size(), digest);
  char hex[kDigestHexBytes];
  AppendHex(digest, hex);
  std::string bounded(
      TruncateUtf8(text, max_bytes - kBoundedTextDigestHex - 1));
  bounded.push_back('~');
  bounded.append(hex, kBoundedTextDigestHex);
  return bounded;
}

absl::string_view TruncateUtf8(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Back off over continuation bytes (10xxxxxx) to a character's start.
  while (end > 0 && (static_cast<uint8_t>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace zen
