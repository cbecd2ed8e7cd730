#include "agent/model/ip_set.h"

#include <arpa/inet.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

IpSet MakeSet(const std::vector<std::string>& entries) {
  IpSet::Builder builder;
  for (const std::string& entry : entries) {
    absl::Status status = builder.Add(entry);
    EXPECT_TRUE(status.ok()) << status;
  }
  return std::move(builder).Build();
}

TEST(IpAddressTest, ParsesIpv4AndIpv6) {
  std::optional<IpAddress> v4 = IpAddress::Parse("1.2.3.4");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->family, IpAddress::Family::kV4);
  EXPECT_TRUE(v4->bits == 0x01020304);

  std::optional<IpAddress> v6 = IpAddress::Parse("2001:db8::1");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->family, IpAddress::Family::kV6);
  EXPECT_TRUE((v6->bits >> 96) == 0x20010db8);
}

TEST(IpAddressTest, MappedIpv6BecomesIpv4) {
  std::optional<IpAddress> mapped = IpAddress::Parse("::ffff:1.2.3.4");
  ASSERT_TRUE(mapped.has_value());
  EXPECT_EQ(mapped->family, IpAddress::Family::kV4);
  EXPECT_TRUE(mapped->bits == 0x01020304);
}

TEST(IpAddressTest, RejectsNonAddresses) {
  for (const char* text :
       {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4/8", "[::1]",
        "fe80::1%eth0", "hello", " 1.2.3.4", "::ffff:1.2.3.4:80"}) {
    EXPECT_FALSE(IpAddress::Parse(text).has_value()) << text;
  }
  EXPECT_FALSE(IpAddress::Parse(std::string(1000, '1')).has_value());
}

// What inet_ntop() writes for `address`: IpAddress::Format's reference.
std::string InetNtop(const IpAddress& address) {
  char text[INET6_ADDRSTRLEN];
  if (address.family == IpAddress::Family::kV4) {
    const uint32_t net = htonl(static_cast<uint32_t>(address.bits));
    EXPECT_NE(inet_ntop(AF_INET, &net, text, sizeof(text)), nullptr);
  } else {
    unsigned char bytes[16];
    for (int i = 0; i < 16; ++i) {
      bytes[i] = static_cast<unsigned char>(address.bits >> (8 * (15 - i)));
    }
    EXPECT_NE(inet_ntop(AF_INET6, bytes, text, sizeof(text)), nullptr);
  }
  return text;
}

std::string Format(const IpAddress& address) {
  IpAddressText text;
  return std::string(address.Format(&text));
}

IpAddress V6(const uint16_t (&groups)[8]) {
  IpAddress address;
  address.family = IpAddress::Family::kV6;
  for (uint16_t group : groups) address.bits = (address.bits << 16) | group;
  return address;
}

TEST(IpAddressTest, FormatsCanonically) {
  EXPECT_EQ(Format(*IpAddress::Parse("192.0.2.1")), "192.0.2.1");
  EXPECT_EQ(Format(*IpAddress::Parse("::FFFF:192.0.2.1")), "192.0.2.1");
  EXPECT_EQ(Format(*IpAddress::Parse("2001:DB8:0:0:0:0:0:1")), "2001:db8::1");
  EXPECT_EQ(Format(*IpAddress::Parse("2001:0:0:1:0:0:0:1")), "2001:0:0:1::1");
  EXPECT_EQ(Format(*IpAddress::Parse("1:0:2:0:3:0:4:0")), "1:0:2:0:3:0:4:0");
  EXPECT_EQ(Format(*IpAddress::Parse("::")), "::");
  EXPECT_EQ(Format(*IpAddress::Parse("::1")), "::1");
  EXPECT_EQ(Format(*IpAddress::Parse("1::")), "1::");
  EXPECT_EQ(Format(*IpAddress::Parse("::1.2.3.4")), "::1.2.3.4");
  EXPECT_EQ(Format(V6({0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304})),
            "::ffff:1.2.3.4");
  EXPECT_EQ(Format(V6({0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
                       0xffff})),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

// Byte for byte inet_ntop()'s output (window and attack-wave keys were
// built with it), over every IPv4 octet value and IPv6 addresses whose
// groups are drawn so that zero runs of every length and place, ties
// between runs, and IPv4-compatible and mapped tails all occur.
TEST(IpAddressTest, FormatMatchesInetNtop) {
  for (uint32_t octet = 0; octet < 256; ++octet) {
    for (uint32_t address : {octet, octet << 8, octet << 16, octet << 24,
                             octet * 0x01010101u, 0xFFFFFF00u | octet}) {
      IpAddress v4;
      v4.bits = address;
      ASSERT_EQ(Format(v4), InetNtop(v4)) << address;
    }
  }
  std::mt19937 random(20261203);
  const auto group = [&random]() -> uint16_t {
    switch (random() % 6) {
      case 0:
      case 1:
      case 2:
        return 0;
      case 3:
        return 0xFFFF;
      case 4:
        return static_cast<uint16_t>(random() % 0x100);
      default:
        return static_cast<uint16_t>(random());
    }
  };
  for (int i = 0; i < 200000; ++i) {
    uint16_t groups[8];
    for (uint16_t& g : groups) g = group();
    const IpAddress v6 = V6(groups);
    ASSERT_EQ(Format(v6), InetNtop(v6));
  }
}

TEST(IpSetTest, EmptySetContainsNothing) {
  IpSet set;
  EXPECT_TRUE(set.empty());
  EXPECT_FALSE(set.Contains("1.2.3.4"));
  EXPECT_FALSE(set.Contains("::1"));
}

TEST(IpSetTest, MatchesExactIpv4Address) {
  IpSet set = MakeSet({"1.2.3.4"});
  EXPECT_TRUE(set.Contains("1.2.3.4"));
  EXPECT_FALSE(set.Contains("1.2.3.5"));
  EXPECT_FALSE(set.Contains("1.2.3.3"));
}

TEST(IpSetTest, MatchesIpv4CidrBoundaries) {
  IpSet set = MakeSet({"10.0.0.0/8", "192.168.1.0/24"});
  EXPECT_TRUE(set.Contains("10.0.0.0"));
  EXPECT_TRUE(set.Contains("10.255.255.255"));
  EXPECT_FALSE(set.Contains("11.0.0.0"));
  EXPECT_FALSE(set.Contains("9.255.255.255"));
  EXPECT_TRUE(set.Contains("192.168.1.77"));
  EXPECT_FALSE(set.Contains("192.168.2.1"));
}

TEST(IpSetTest, IgnoresHostBitsBelowPrefix) {
  IpSet set = MakeSet({"10.1.2.3/8"});
  EXPECT_TRUE(set.Contains("10.200.0.1"));
}

TEST(IpSetTest, ZeroPrefixMatchesWholeFamily) {
  IpSet v4 = MakeSet({"0.0.0.0/0"});
  EXPECT_TRUE(v4.Contains("255.255.255.255"));
  EXPECT_TRUE(v4.Contains("0.0.0.0"));
  EXPECT_FALSE(v4.Contains("::1"));

  IpSet v6 = MakeSet({"::/0"});
  EXPECT_TRUE(v6.Contains("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_FALSE(v6.Contains("1.2.3.4"));
}

TEST(IpSetTest, MatchesIpv6AddressAndCidr) {
  IpSet set = MakeSet({"2001:db8::/32", "fe80::1"});
  EXPECT_TRUE(set.Contains("2001:db8::"));
  EXPECT_TRUE(set.Contains("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_FALSE(set.Contains("2001:db9::"));
  EXPECT_TRUE(set.Contains("fe80::1"));
  EXPECT_TRUE(set.Contains("FE80:0:0:0:0:0:0:1"));
  EXPECT_FALSE(set.Contains("fe80::2"));
  EXPECT_FALSE(set.Contains("1.2.3.4"));
}

TEST(IpSetTest, MappedClientAddressMatchesIpv4Entries) {
  IpSet set = MakeSet({"1.2.3.0/24"});
  EXPECT_TRUE(set.Contains("::ffff:1.2.3.4"));
  EXPECT_TRUE(set.Contains("::ffff:102:304"));
  EXPECT_FALSE(set.Contains("::ffff:1.2.4.4"));
}

TEST(IpSetTest, MappedEntryMatchesIpv4Client) {
  IpSet set = MakeSet({"::ffff:1.2.3.0/120", "::ffff:9.9.9.9"});
  EXPECT_TRUE(set.Contains("1.2.3.200"));
  EXPECT_TRUE(set.Contains("9.9.9.9"));
  EXPECT_FALSE(set.Contains("1.2.4.0"));
}

TEST(IpSetTest, MergesOverlappingAndAdjacentRanges) {
  IpSet set = MakeSet({"10.0.0.0/24", "10.0.1.0/24", "10.0.0.5", "10.0.0.0/23",
                       "255.255.255.255", "255.255.255.254/31"});
  EXPECT_EQ(set.range_count(), 2u);
  EXPECT_TRUE(set.Contains("10.0.1.255"));
  EXPECT_FALSE(set.Contains("10.0.2.0"));
  EXPECT_TRUE(set.Contains("255.255.255.255"));
}

TEST(IpSetTest, AcceptsSurroundingWhitespace) {
  IpSet set = MakeSet({" 1.2.3.4 ", "\t10.0.0.0/8\n"});
  EXPECT_TRUE(set.Contains("1.2.3.4"));
  EXPECT_TRUE(set.Contains("10.9.9.9"));
}

TEST(IpSetTest, RejectsMalformedEntriesNamingThem) {
  for (const char* entry :
       {"", "1.2.3.4/33", "1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/8/8",
        "1.2.3.4/abc", "1.2.3.4/0008", "2001:db8::/129", "300.1.1.1",
        "1.2.3.4 /8", "not-an-ip", "/8", "1.2.3.4/+8"}) {
    IpSet::Builder builder;
    absl::Status status = builder.Add(entry);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << entry;
    EXPECT_NE(status.message().find(absl::StrCat("\"", entry, "\"")),
              absl::string_view::npos)
        << status;
  }
}

TEST(IpSetTest, FailedAddLeavesBuilderUsable) {
  IpSet::Builder builder;
  EXPECT_FALSE(builder.Add("bogus").ok());
  EXPECT_TRUE(builder.Add("1.1.1.1").ok());
  IpSet set = std::move(builder).Build();
  EXPECT_EQ(set.range_count(), 1u);
}

TEST(IpSetTest, LargeSetLookupsAreCorrect) {
  IpSet::Builder builder;
  // Every other /24 in 10.0.0.0/8: 32768 disjoint ranges.
  for (int i = 0; i < 65536; i += 2) {
    ASSERT_TRUE(
        builder.Add(absl::StrCat("10.", i / 256, ".", i % 256, ".0/24")).ok());
  }
  IpSet set = std::move(builder).Build();
  EXPECT_EQ(set.range_count(), 32768u);
  EXPECT_TRUE(set.Contains("10.0.0.1"));
  EXPECT_FALSE(set.Contains("10.0.1.1"));
  EXPECT_TRUE(set.Contains("10.255.254.255"));
  EXPECT_FALSE(set.Contains("10.255.255.0"));
  EXPECT_FALSE(set.Contains("11.0.0.0"));
}

}  // namespace
}  // namespace zen
