// Comparing JSON texts as JSON values, for tests.
#ifndef ZEN_TESTING_SAME_JSON_H_
#define ZEN_TESTING_SAME_JSON_H_

#include <string>

#include "gtest/gtest.h"

namespace zen::testing {

// Same JSON value: same keys, same JSON types (a quoted number is not a
// number), same values; object key order aside. A text that is not JSON
// fails the current test and compares as null.
::testing::AssertionResult SameJson(const std::string& actual,
                                    const std::string& expected);

}  // namespace zen::testing

#endif  // ZEN_TESTING_SAME_JSON_H_
