#include "agent/client_settings.h"

#include <atomic>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/model/runtime_settings.h"
#include "base/thread_group.h"
#include "gtest/gtest.h"
#include "proto/zen/agent/worker_agent.pb.h"

namespace zen {
namespace {

constexpr char kBlockingConfig[] = R"({"block": true})";
constexpr char kLists[] = R"({"blockedIPAddresses": []})";

agent::UpdatedSettingsResponse ConfigAnswer(int generation,
                                            const char* config) {
  agent::UpdatedSettingsResponse answer;
  answer.set_config_generation(generation);
  answer.set_config(config);
  return answer;
}

TEST(ClientSettingsTest, EmptyUntilAConfigIsApplied) {
  int told = 0;
  ClientSettings settings(
      [&](std::shared_ptr<const RuntimeSettings>) { ++told; });
  ASSERT_NE(settings.current(), nullptr);
  EXPECT_FALSE(settings.current()->has_config());
  EXPECT_EQ(settings.current_with_config(), nullptr);

  ASSERT_TRUE(settings.Apply(ConfigAnswer(1, kBlockingConfig)).ok());
  ASSERT_NE(settings.current_with_config(), nullptr);
  EXPECT_TRUE(settings.current()->block());
  EXPECT_EQ(settings.applied_generations().config, 1u);
  EXPECT_EQ(settings.counts().applied, 1u);
  EXPECT_EQ(told, 1);
}

TEST(ClientSettingsTest, ANullDocumentIsAskedForAgainByPollsNotWatches) {
  int told = 0;
  ClientSettings settings(
      [&](std::shared_ptr<const RuntimeSettings>) { ++told; });
  ASSERT_TRUE(settings.Apply(ConfigAnswer(2, "null")).ok());
  EXPECT_EQ(told, 0);
  EXPECT_EQ(settings.counts().applied, 0u);
  EXPECT_EQ(settings.current_with_config(), nullptr);

  agent::UpdatedSettingsRequest poll;
  EXPECT_TRUE(absl::IsUnavailable(
      settings.Poll([&](const agent::UpdatedSettingsRequest& request)
                        -> absl::StatusOr<agent::UpdatedSettingsResponse> {
        poll = request;
        return absl::UnavailableError("no parent");
      })));
  EXPECT_FALSE(poll.has_known_config_generation());
  agent::WatchSettingsRequest watch;
  settings.StartWatch(&watch);
  EXPECT_EQ(watch.known_config_generation(), 2);
  EXPECT_EQ(settings.counts().polls, 1u);
  EXPECT_EQ(settings.counts().watches, 1u);
}

TEST(ClientSettingsTest, APollAsksWithWhatWasAppliedAndAppliesTheAnswer) {
  ClientSettings settings(nullptr);
  ASSERT_TRUE(settings.Apply(ConfigAnswer(4, kBlockingConfig)).ok());
  int asked_with = -1;
  ASSERT_TRUE(settings
                  .Poll([&](const agent::UpdatedSettingsRequest& request)
                            -> absl::StatusOr<agent::UpdatedSettingsResponse> {
                    asked_with = request.known_config_generation();
                    return ConfigAnswer(5, R"({"block": false})");
                  })
                  .ok());
  EXPECT_EQ(asked_with, 4);
  EXPECT_FALSE(settings.current()->block());
  EXPECT_EQ(settings.applied_generations().config, 5u);
}

TEST(ClientSettingsTest, ABadConfigKeepsTheOldOneAndTheListsStillApply) {
  ClientSettings settings(nullptr);
  ASSERT_TRUE(settings.Apply(ConfigAnswer(1, kBlockingConfig)).ok());
  agent::UpdatedSettingsResponse answer = ConfigAnswer(2, "[not json");
  answer.set_firewall_lists_generation(7);
  answer.set_firewall_lists(kLists);
  EXPECT_FALSE(settings.Apply(answer).ok());
  EXPECT_TRUE(settings.current()->block());  // The old config stays.
  EXPECT_TRUE(settings.current()->has_firewall_lists());
  EXPECT_EQ(settings.applied_generations().config, 1u);
  EXPECT_EQ(settings.applied_generations().firewall_lists, 7u);
}

// Polls and the watch apply from different threads: the host hears of
// each change on its own, never two at once.
TEST(ClientSettingsTest, AppliesFromManyThreadsTellTheHostOneAtATime) {
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> told{0};
  ClientSettings settings([&](std::shared_ptr<const RuntimeSettings>) {
    if (++inside > 1) ++overlaps;
    ++told;
    --inside;
  });
  constexpr int kPerThread = 200;
  ThreadGroup threads;
  for (int t = 0; t < 2; ++t) {
    threads.Spawn([&settings, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int generation = t * kPerThread + i;
        (void)settings.Apply(ConfigAnswer(generation, kBlockingConfig));
      }
    });
  }
  threads.JoinAll();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(told.load(), 2 * kPerThread);
  EXPECT_EQ(settings.counts().applied, 2u * kPerThread);
}

}  // namespace
}  // namespace zen
