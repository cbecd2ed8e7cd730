// A GoogleTest binary with one passing and one failing case: the input that
// count_test_results_test gives the counting script, as a failed gtest
// target leaves it. Not a test itself (a cc_binary, never run by
// `bazel test`).
#include "gtest/gtest.h"

namespace {

TEST(CountFixture, Passes) { EXPECT_EQ(1 + 1, 2); }

TEST(CountFixture, Fails) {
  EXPECT_EQ(1 + 1, 3) << "this case fails on purpose";
}

}  // namespace
