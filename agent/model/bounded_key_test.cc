#include "agent/model/bounded_key.h"

#include <arpa/inet.h>
#include <openssl/sha.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

// The keys as they were built before the stack-buffer forms (with StrCat,
// BytesToHexString and inet_ntop): windows and attack-wave state must stay
// keyed exactly as they were.
std::string ReferenceBoundedKey(absl::string_view key) {
  if (key.size() <= kMaxKeyBytes) return std::string(key);
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(key.data()), key.size(), digest);
  return absl::StrCat(
      TruncateUtf8(key, kMaxKeyBytes - 2 * SHA256_DIGEST_LENGTH - 1), "~",
      absl::BytesToHexString(absl::string_view(
          reinterpret_cast<const char*>(digest), sizeof(digest))));
}

std::string ReferenceClientIpKey(absl::string_view client_ip) {
  const std::optional<IpAddress> ip = IpAddress::Parse(client_ip);
  if (!ip.has_value()) return ReferenceBoundedKey(client_ip);
  char text[INET6_ADDRSTRLEN];
  if (ip->family == IpAddress::Family::kV4) {
    const uint32_t net = htonl(static_cast<uint32_t>(ip->bits));
    inet_ntop(AF_INET, &net, text, sizeof(text));
  } else {
    uint8_t bytes[16];
    for (int i = 0; i < 16; ++i) {
      bytes[i] = static_cast<uint8_t>(ip->bits >> (8 * (15 - i)));
    }
    inet_ntop(AF_INET6, bytes, text, sizeof(text));
  }
  return text;
}

// Client IPs as requests send them: valid spellings of both families
// (upper and lower case, mapped, compatible, zero runs), near misses and
// long junk, including multi-byte characters at the truncation point.
std::vector<std::string> ClientIpSamples() {
  std::vector<std::string> samples = {"",
                                      "1.2.3.4",
                                      "0.0.0.0",
                                      "255.255.255.255",
                                      "::",
                                      "::1",
                                      "1::",
                                      "::ffff:192.0.2.1",
                                      "::FFFF:10.0.0.1",
                                      "::1.2.3.4",
                                      "::0:1.2.3.4",
                                      "2001:DB8:0:0:0:0:0:1",
                                      "2001:0db8::0:1",
                                      "fe80::1:0:0:1",
                                      "1:0:0:2:0:0:0:3",
                                      "1:0:0:2:0:0:3:4",
                                      "a:b:c:d:e:f:0:0",
                                      "::ffff:0:1.2.3.4",
                                      "1.2.3",
                                      "256.1.1.1",
                                      "1.2.3.4 ",
                                      "[::1]",
                                      "fe80::1%eth0",
                                      "not an ip",
                                      "unknown",
                                      std::string(128, '9'),
                                      std::string(129, '9'),
                                      std::string(300, 'x')};
  // A two-byte character straddling the prefix's end.
  std::string accented(62, 'a');
  for (int i = 0; i < 40; ++i) accented += "\xc3\xa9";
  samples.push_back(accented);
  std::mt19937 random(4242);
  for (int i = 0; i < 2000; ++i) {
    samples.push_back(absl::StrCat(random() % 256, ".", random() % 256, ".",
                                   random() % 256, ".", random() % 256));
    std::string v6;
    for (int g = 0; g < 8; ++g) {
      const uint32_t value = random() % 3 == 0 ? 0 : random() % 0x10000;
      absl::StrAppend(&v6, g == 0 ? "" : ":", absl::Hex(value));
    }
    samples.push_back(v6);
    samples.push_back(
        absl::StrCat("::ffff:", random() % 256, ".", random() % 256, ".1.2"));
  }
  return samples;
}

TEST(BoundedKeyTest, StackFormsMatchTheReference) {
  for (const std::string& sample : ClientIpSamples()) {
    KeyBuffer buffer;
    EXPECT_EQ(ClientIpKeyView(sample, IpAddress::Parse(sample), &buffer),
              ReferenceClientIpKey(sample))
        << sample;
    EXPECT_EQ(ClientIpKey(sample), ReferenceClientIpKey(sample)) << sample;
    EXPECT_EQ(BoundedKeyView(sample, &buffer), ReferenceBoundedKey(sample))
        << sample;
    EXPECT_EQ(BoundedKey(sample), ReferenceBoundedKey(sample)) << sample;
  }
}

TEST(BoundedKeyTest, ShortKeysAreViewsOfTheInput) {
  KeyBuffer buffer;
  const std::string id = "user-42";
  EXPECT_EQ(BoundedKeyView(id, &buffer).data(), id.data());
  const std::string junk = "not an ip";
  EXPECT_EQ(ClientIpKeyView(junk, std::nullopt, &buffer).data(), junk.data());
}

TEST(BoundedKeyTest, KeepsShortKeysAndDigestsLongOnesDistinctly) {
  EXPECT_EQ(BoundedKey("actor:u1"), "actor:u1");
  const std::string a(8192, 'a');
  std::string b = a;
  b.back() = 'b';  // Same prefix, different end.
  const std::string ka = BoundedKey(a), kb = BoundedKey(b);
  EXPECT_EQ(ka.size(), kMaxKeyBytes);
  EXPECT_EQ(kb.size(), kMaxKeyBytes);
  EXPECT_NE(ka, kb);
  EXPECT_EQ(ka, BoundedKey(a));  // Deterministic.
  EXPECT_EQ(BoundedKey(std::string(kMaxKeyBytes, 'x')).size(), kMaxKeyBytes);
}

TEST(BoundedKeyTest, NormalizesClientIps) {
  EXPECT_EQ(ClientIpKey("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(ClientIpKey("::ffff:192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(ClientIpKey("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
  EXPECT_EQ(ClientIpKey("not an ip"), "not an ip");
  EXPECT_EQ(ClientIpKey(std::string(300, '9')).size(), kMaxKeyBytes);
}

TEST(BoundedKeyTest, TruncatesAtCharacterBoundaries) {
  EXPECT_EQ(TruncateUtf8("abc", 5), "abc");
  EXPECT_EQ(TruncateUtf8("abcdef", 3), "abc");
  // "é" is two bytes: never cut in half.
  EXPECT_EQ(TruncateUtf8("ab\xc3\xa9", 3), "ab");
  EXPECT_EQ(TruncateUtf8("\xf0\x9d\x84\x9e!", 2), "");
}

TEST(BoundedKeyTest, BoundedTextKeepsAReadableStartAndDistinctEnds) {
  EXPECT_EQ(BoundedText("/users/:id", 64), "/users/:id");
  std::string a = "/api/" + std::string(1 << 20, 'a');
  std::string b = a;
  b.back() = 'b';
  const std::string ta = BoundedText(a, 64), tb = BoundedText(b, 64);
  EXPECT_EQ(ta.size(), 64u);
  EXPECT_EQ(ta.substr(0, 6), "/api/a");
  EXPECT_EQ(ta[64 - kBoundedTextDigestHex - 1], '~');
  EXPECT_NE(ta, tb);
  EXPECT_EQ(ta, BoundedText(a, 64));
  // A cut never splits a character: "é" (two bytes) straddles the cut.
  const std::string accented = std::string(46, 'x') + "\xc3\xa9" + a;
  EXPECT_EQ(BoundedText(accented, 64).substr(0, 47),
            std::string(46, 'x') + "~");
  // No room for a digest: only cut.
  EXPECT_EQ(BoundedText("GET-LONG-METHOD", 8), "GET-LONG");
}

}  // namespace
}  // namespace zen
