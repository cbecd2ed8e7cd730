#include "agent/bounded_key.h"

#include <string>

#include "gtest/gtest.h"

namespace zen {
namespace {

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

}  // namespace
}  // namespace zen
