#include "base/lru_map.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Keys(const LruMap<int>& map) {
  std::vector<std::string> keys;
  map.ForEach(
      [&](const LruMap<int>::Entry& entry) { keys.push_back(entry.key); });
  return keys;
}

TEST(LruMapTest, InsertsAndFinds) {
  LruMap<int> map(3);
  auto result = map.FindOrInsert("a");
  EXPECT_TRUE(result.inserted);
  EXPECT_FALSE(result.evicted);
  EXPECT_EQ(*result.value, 0);
  *result.value = 7;
  ASSERT_NE(map.Find("a"), nullptr);
  EXPECT_EQ(*map.Find("a"), 7);
  EXPECT_EQ(map.Find("b"), nullptr);
  auto again = map.FindOrInsert("a");
  EXPECT_FALSE(again.inserted);
  EXPECT_EQ(*again.value, 7);
  EXPECT_EQ(map.size(), 1u);
}

TEST(LruMapTest, EvictsLeastRecentlyUsedWhenFull) {
  LruMap<int> map(3);
  map.FindOrInsert("a");
  map.FindOrInsert("b");
  map.FindOrInsert("c");
  map.Find("a");  // b is now the least recently used
  auto result = map.FindOrInsert("d");
  EXPECT_TRUE(result.evicted);
  EXPECT_EQ(map.size(), 3u);
  EXPECT_EQ(map.Find("b"), nullptr);
  EXPECT_THAT(Keys(map), ElementsAre("d", "a", "c"));
}

TEST(LruMapTest, ZeroCapacityHoldsOne) {
  LruMap<int> map(0);
  EXPECT_EQ(map.capacity(), 1u);
  map.FindOrInsert("a");
  EXPECT_TRUE(map.FindOrInsert("b").evicted);
  EXPECT_THAT(Keys(map), ElementsAre("b"));
}

TEST(LruMapTest, LeastRecentAndPop) {
  LruMap<int> map(5);
  EXPECT_EQ(map.LeastRecent(), nullptr);
  map.FindOrInsert("a");
  map.FindOrInsert("b");
  ASSERT_NE(map.LeastRecent(), nullptr);
  EXPECT_EQ(map.LeastRecent()->key, "a");
  map.PopLeastRecent();
  EXPECT_EQ(map.LeastRecent()->key, "b");
  map.PopLeastRecent();
  EXPECT_TRUE(map.empty());
  map.PopLeastRecent();  // no-op when empty
}

TEST(LruMapTest, EraseAndClear) {
  LruMap<int> map(5);
  map.FindOrInsert("a");
  map.FindOrInsert("b");
  EXPECT_TRUE(map.Erase("a"));
  EXPECT_FALSE(map.Erase("a"));
  EXPECT_THAT(Keys(map), ElementsAre("b"));
  map.Clear();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.Find("b"), nullptr);
}

TEST(LruMapTest, KeysWithEmbeddedNulAndLongKeysStayDistinct) {
  LruMap<int> map(10);
  const std::string long_key(1000, 'k');
  *map.FindOrInsert(std::string("a\0b", 3)).value = 1;
  *map.FindOrInsert(std::string("a\0c", 3)).value = 2;
  *map.FindOrInsert(long_key).value = 3;
  EXPECT_EQ(*map.Find(std::string("a\0b", 3)), 1);
  EXPECT_EQ(*map.Find(std::string("a\0c", 3)), 2);
  EXPECT_EQ(*map.Find(long_key), 3);
}

TEST(LruMapTest, ManyInsertionsStayBounded) {
  LruMap<int> map(100);
  for (int i = 0; i < 10000; ++i) {
    *map.FindOrInsert(std::to_string(i)).value = i;
  }
  EXPECT_EQ(map.size(), 100u);
  EXPECT_EQ(*map.Find("9999"), 9999);
  EXPECT_EQ(*map.Find("9900"), 9900);
  EXPECT_EQ(map.Find("9899"), nullptr);
}

}  // namespace
}  // namespace zen
