#include "rpc/call_id.h"

#include <cstdint>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace zen::rpc::internal {
namespace {

TEST(CallIdTest, FormatsPrefixAndNumber) {
  EXPECT_EQ(CallId("0123456789abcdef-", 1).view(), "0123456789abcdef-1");
  EXPECT_EQ(CallId("p-", UINT64_MAX).view(), "p-18446744073709551615");
}

TEST(CallIdTest, PrefixesAreSeventeenHexBytesAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string prefix = RandomIdPrefix();
    ASSERT_EQ(prefix.size(), 17u);
    EXPECT_EQ(prefix.back(), '-');
    EXPECT_EQ(prefix.find_first_not_of("0123456789abcdef"), 16u);
    seen.insert(prefix);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(CallIdTest, OnlyTheExactIdWeSentMapsToItsNumber) {
  const std::string prefix = "0123456789abcdef-";
  EXPECT_EQ(ParseIdNumber(prefix + "42", prefix), 42u);
  EXPECT_EQ(ParseIdNumber(prefix + "18446744073709551615", prefix), UINT64_MAX);
  // Anything else is nobody's call (0 is never issued).
  for (const std::string& other :
       {prefix + "042", prefix + "0", prefix, prefix + "42 ", prefix + "+42",
        prefix + "-42", prefix + "4x2", prefix + "18446744073709551616",
        std::string("fedcba9876543210-42"), std::string("42"),
        std::string("")}) {
    EXPECT_EQ(ParseIdNumber(other, prefix), 0u) << "'" << other << "'";
  }
}

}  // namespace
}  // namespace zen::rpc::internal
