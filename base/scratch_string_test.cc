#include "base/scratch_string.h"

#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace zen {
namespace {

TEST(ScratchStringTest, StartsEmptyAndKeepsItsCapacityForTheNextOne) {
  const char* buffer = nullptr;
  {
    ScratchString s;
    EXPECT_TRUE(s->empty());
    s->assign(1000, 'x');
    buffer = s->data();
  }
  ScratchString again;
  EXPECT_TRUE(again->empty());
  EXPECT_GE(again->capacity(), 1000u);
  EXPECT_EQ(again->data(), buffer);  // The same allocation, reused.
}

TEST(ScratchStringTest, NestedOnesAreDistinct) {
  ScratchString outer;
  outer->assign("outer");
  {
    ScratchString inner;
    EXPECT_TRUE(inner->empty());
    inner->assign("inner");
    EXPECT_NE(outer->data(), inner->data());
  }
  EXPECT_EQ(outer.str(), "outer");
}

TEST(ScratchStringTest, ALargeOneIsFreedNotPooled) {
  {
    ScratchString big;
    big->assign(kScratchKeepBytes + 1, 'x');
  }
  ScratchString next;
  EXPECT_LE(next->capacity(), kScratchKeepBytes);
}

TEST(ScratchStringTest, DeeperNestingThanThePoolStillWorks) {
  ScratchString strings[kScratchPoolSize + 3];
  for (size_t i = 0; i < kScratchPoolSize + 3; ++i) {
    strings[i]->assign(std::to_string(i));
  }
  for (size_t i = 0; i < kScratchPoolSize + 3; ++i) {
    EXPECT_EQ(strings[i].str(), std::to_string(i));
  }
}

TEST(ScratchStringTest, EachThreadHasItsOwnPool) {
  const char* main_buffer = nullptr;
  {
    ScratchString s;
    s->assign(500, 'm');
    main_buffer = s->data();
  }
  const char* other_buffer = nullptr;
  std::thread([&] {
    ScratchString s;
    s->assign(500, 'o');
    other_buffer = s->data();
  }).join();
  ScratchString mine;
  EXPECT_EQ(mine->data(), main_buffer);
  EXPECT_NE(other_buffer, nullptr);
}

}  // namespace
}  // namespace zen
