// SeenGenerations: polls ask with what was applied, watches with what was
// answered, so a `null` document is asked for again by polls only.
#include "agent/seen_generations.h"

#include "gtest/gtest.h"

namespace zen {
namespace {

TEST(SeenGenerationsTest, NothingSeenAsksWithNoGeneration) {
  SeenGenerations seen;
  agent::UpdatedSettingsRequest poll;
  agent::WatchSettingsRequest watch;
  seen.FillPoll(&poll);
  seen.FillWatch(&watch);
  EXPECT_FALSE(poll.has_known_config_generation());
  EXPECT_FALSE(poll.has_known_firewall_lists_generation());
  EXPECT_FALSE(watch.has_known_config_generation());
  EXPECT_FALSE(watch.has_known_firewall_lists_generation());
}

TEST(SeenGenerationsTest, ANullDocumentIsAskedForAgainByPollsOnly) {
  SeenGenerations seen;
  agent::UpdatedSettingsResponse answer;
  answer.set_config_generation(3);  // Config carried as `null`: not applied.
  answer.set_firewall_lists_generation(5);
  seen.NoteAnswer(answer);
  seen.NoteApplied(std::nullopt, 5);  // Only the lists were a document.

  agent::UpdatedSettingsRequest poll;
  seen.FillPoll(&poll);
  EXPECT_FALSE(poll.has_known_config_generation());
  EXPECT_EQ(poll.known_firewall_lists_generation(), 5);

  agent::WatchSettingsRequest watch;
  seen.FillWatch(&watch);
  EXPECT_EQ(watch.known_config_generation(), 3);
  EXPECT_EQ(watch.known_firewall_lists_generation(), 5);
}

TEST(SeenGenerationsTest, AnAnswerWithoutADocumentKeepsWhatWasSeen) {
  SeenGenerations seen;
  agent::UpdatedSettingsResponse first;
  first.set_config_generation(2);
  seen.NoteAnswer(first);
  seen.NoteApplied(2, std::nullopt);
  seen.NoteAnswer(agent::UpdatedSettingsResponse());  // `{}`: nothing new.
  agent::WatchSettingsRequest watch;
  seen.FillWatch(&watch);
  EXPECT_EQ(watch.known_config_generation(), 2);
  EXPECT_FALSE(watch.has_known_firewall_lists_generation());
  EXPECT_EQ(seen.applied().config, 2u);
}

}  // namespace
}  // namespace zen
