#include "agent/model/settings_cache.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

TEST(SettingsCacheTest, StartsAtGenerationZeroWithNothingCached) {
  SettingsCache cache;
  SettingsSnapshot snapshot = cache.Snapshot();
  EXPECT_EQ(snapshot.config, nullptr);
  EXPECT_EQ(snapshot.config_generation, 0u);
  EXPECT_EQ(snapshot.firewall_lists, nullptr);
  EXPECT_EQ(snapshot.firewall_lists_generation, 0u);
}

TEST(SettingsCacheTest, KeepsTextByteForByte) {
  SettingsCache cache;
  const std::string config = "{ \"block\" :true,\n\"x\":\"\\u00e9\" }";
  cache.UpdateConfig(config);
  cache.UpdateFirewallLists("{}");
  SettingsSnapshot snapshot = cache.Snapshot();
  ASSERT_NE(snapshot.config, nullptr);
  EXPECT_EQ(*snapshot.config, config);
  ASSERT_NE(snapshot.firewall_lists, nullptr);
  EXPECT_EQ(*snapshot.firewall_lists, "{}");
}

TEST(SettingsCacheTest, GenerationIncreasesOnlyWhenContentChanges) {
  SettingsCache cache;
  EXPECT_EQ(cache.UpdateConfig(R"({"block":true})"), 1u);
  EXPECT_EQ(cache.UpdateConfig(R"({"block":true})"), 1u);
  EXPECT_EQ(cache.UpdateConfig(R"({"block":false})"), 2u);
  EXPECT_EQ(cache.UpdateConfig(R"({"block":false})"), 2u);
  EXPECT_EQ(cache.UpdateConfig(R"({"block":true})"), 3u);
  // Byte comparison: other spacing is a change.
  EXPECT_EQ(cache.UpdateConfig(R"({"block": true})"), 4u);
  EXPECT_EQ(cache.Snapshot().config_generation, 4u);
}

TEST(SettingsCacheTest, DocumentsHaveIndependentGenerations) {
  SettingsCache cache;
  cache.UpdateConfig("a");
  cache.UpdateConfig("b");
  EXPECT_EQ(cache.UpdateFirewallLists("x"), 1u);
  SettingsSnapshot snapshot = cache.Snapshot();
  EXPECT_EQ(snapshot.config_generation, 2u);
  EXPECT_EQ(snapshot.firewall_lists_generation, 1u);
}

TEST(SettingsCacheTest, NullWhileNothingIsCachedIsNoChange) {
  SettingsCache cache;
  // As the reference: a nil value stored over nil is no change.
  EXPECT_EQ(cache.UpdateFirewallLists("null"), 0u);
  EXPECT_EQ(cache.UpdateFirewallLists("{}"), 1u);
  EXPECT_EQ(cache.UpdateFirewallLists("null"), 2u);  // Back to null: changed.
  EXPECT_EQ(cache.UpdateFirewallLists("null"), 2u);
}

TEST(SettingsCacheTest, OldSnapshotKeepsOldTextAlive) {
  SettingsCache cache;
  cache.UpdateConfig("old");
  SettingsSnapshot before = cache.Snapshot();
  cache.UpdateConfig("new");
  EXPECT_EQ(*before.config, "old");
  EXPECT_EQ(before.config_generation, 1u);
  EXPECT_EQ(*cache.Snapshot().config, "new");
}

TEST(SettingsCacheTest, SnapshotSharesTextWithoutCopying) {
  SettingsCache cache;
  cache.UpdateConfig(std::string(1 << 20, 'x'));
  SettingsSnapshot a = cache.Snapshot();
  SettingsSnapshot b = cache.Snapshot();
  EXPECT_EQ(a.config.get(), b.config.get());
}

TEST(SettingsCacheTest, NullKnownGenerationsGetBothDocuments) {
  SettingsCache cache;
  // Even with nothing cached: {"config": null, "config_generation": 0, ...}.
  SettingsChanges changes = cache.ChangedSince(std::nullopt, std::nullopt);
  EXPECT_TRUE(changes.config_changed);
  EXPECT_TRUE(changes.firewall_lists_changed);
  EXPECT_EQ(changes.snapshot.config, nullptr);
  EXPECT_EQ(changes.snapshot.config_generation, 0u);
}

TEST(SettingsCacheTest, CurrentGenerationsGetNothing) {
  SettingsCache cache;
  cache.UpdateConfig("c");
  cache.UpdateFirewallLists("l");
  SettingsChanges changes = cache.ChangedSince(1, 1);
  EXPECT_FALSE(changes.config_changed);
  EXPECT_FALSE(changes.firewall_lists_changed);
}

TEST(SettingsCacheTest, ReportsEachChangedDocumentSeparately) {
  SettingsCache cache;
  cache.UpdateConfig("c1");
  cache.UpdateFirewallLists("l1");
  cache.UpdateConfig("c2");

  SettingsChanges changes = cache.ChangedSince(1, 1);
  EXPECT_TRUE(changes.config_changed);
  EXPECT_FALSE(changes.firewall_lists_changed);
  EXPECT_EQ(*changes.snapshot.config, "c2");
  EXPECT_EQ(changes.snapshot.config_generation, 2u);

  changes = cache.ChangedSince(2, std::nullopt);
  EXPECT_FALSE(changes.config_changed);
  EXPECT_TRUE(changes.firewall_lists_changed);

  // A generation the parent never had (e.g. from before a parent restart)
  // differs too.
  changes = cache.ChangedSince(7, 1);
  EXPECT_TRUE(changes.config_changed);
  EXPECT_FALSE(changes.firewall_lists_changed);
}

TEST(SettingsCacheTest, ConcurrentReadersSeeMonotonicConsistentSnapshots) {
  SettingsCache cache;
  constexpr int kWriters = 2;
  constexpr int kUpdatesPerWriter = 500;
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < 4; ++r) {
    threads.emplace_back([&] {
      uint64_t last = 0;
      while (!stop.load()) {
        SettingsSnapshot snapshot = cache.Snapshot();
        if (snapshot.config_generation < last) ++errors;
        // Past generation 0 there is always text, and it is a writer's.
        if (snapshot.config_generation > 0 &&
            (snapshot.config == nullptr ||
             snapshot.config->rfind("doc-", 0) != 0)) {
          ++errors;
        }
        last = snapshot.config_generation;
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&cache, w] {
      for (int i = 0; i < kUpdatesPerWriter; ++i) {
        cache.UpdateConfig(absl::StrCat("doc-", w, "-", i));
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  stop = true;
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  // Every update stored distinct text, so each one advanced the generation.
  EXPECT_EQ(cache.Snapshot().config_generation,
            uint64_t{kWriters * kUpdatesPerWriter});
}

}  // namespace
}  // namespace zen
