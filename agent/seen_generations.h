// SeenGenerations: what a worker has seen of its parent's settings, the one
// record that both kinds of settings call ask from.
#ifndef ZEN_AGENT_SEEN_GENERATIONS_H_
#define ZEN_AGENT_SEEN_GENERATIONS_H_

#include <cstdint>
#include <optional>

#include "agent/agent_service.h"
#include "proto/zen/agent/worker_agent.pb.h"

namespace zen {

// For each document, two generations:
//   answered: the last answer that carried the document, even as no
//             document (`null`);
//   applied:  the last document this worker parsed and took.
// A poll (updated_settings) asks with the applied ones, so that a document
// answered as `null` is asked for again, as the reference's workers do. A
// watch (watch_settings) asks with the answered ones: asking again for a
// `null` document would be answered at once, over and over.
//
// Thread-compatible: the owner serializes calls.
class SeenGenerations {
 public:
  // Records what an answer carried (before it is applied).
  void NoteAnswer(const agent::UpdatedSettingsResponse& response);
  // Records the generations of documents that were parsed and taken.
  void NoteApplied(std::optional<int64_t> config,
                   std::optional<int64_t> firewall_lists);

  void FillPoll(agent::UpdatedSettingsRequest* request) const {
    PutKnownGenerations(applied_, request);
  }
  void FillWatch(agent::WatchSettingsRequest* request) const {
    PutKnownGenerations(answered_, request);
  }
  const KnownGenerations& applied() const { return applied_; }

 private:
  KnownGenerations answered_;
  KnownGenerations applied_;
};

}  // namespace zen

#endif  // ZEN_AGENT_SEEN_GENERATIONS_H_
