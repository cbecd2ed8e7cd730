#include <thread>

#include "gtest/gtest.h"

namespace {

// The guard turns a thread start into a clear failure: this is the death a
// one-thread test meets when it starts a thread.
TEST(SingleThreadedTest, StartingAThreadFailsWithTheReason) {
  EXPECT_DEATH(std::thread([] {}).join(), "this test started a thread");
}

}  // namespace
