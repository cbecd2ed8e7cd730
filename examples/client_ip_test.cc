#include "examples/client_ip.h"

#include "gtest/gtest.h"

namespace zen::examples {
namespace {

TEST(ClientIpTest, UsesPeerWithoutHeader) {
  EXPECT_EQ(ClientIp("", "127.0.0.1"), "127.0.0.1");
}

TEST(ClientIpTest, TakesFirstEntryOfHeader) {
  EXPECT_EQ(ClientIp("203.0.113.7, 10.0.0.1, 10.0.0.2", "127.0.0.1"),
            "203.0.113.7");
}

TEST(ClientIpTest, StripsSpacesAndPorts) {
  EXPECT_EQ(ClientIp("  203.0.113.7:5123 ", "127.0.0.1"), "203.0.113.7");
  EXPECT_EQ(ClientIp("[2001:db8::1]:443", "127.0.0.1"), "2001:db8::1");
  EXPECT_EQ(ClientIp("[2001:db8::1]", "127.0.0.1"), "2001:db8::1");
}

TEST(ClientIpTest, AcceptsBareIpv6) {
  EXPECT_EQ(ClientIp("2001:db8::7", "127.0.0.1"), "2001:db8::7");
  EXPECT_EQ(ClientIp("::ffff:192.0.2.1", "127.0.0.1"), "::ffff:192.0.2.1");
}

TEST(ClientIpTest, SkipsEntriesThatAreNotAddresses) {
  EXPECT_EQ(ClientIp("unknown, proxy.example, 198.51.100.4", "127.0.0.1"),
            "198.51.100.4");
  EXPECT_EQ(ClientIp(",,", "127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(ClientIp("[2001:db8::1", "127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(ClientIp("[2001:db8::1]x", "127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(ClientIp("1.2.3.4/24", "::1"), "::1");
  EXPECT_EQ(ClientIp("999.1.1.1", "::1"), "::1");
}

}  // namespace
}  // namespace zen::examples
