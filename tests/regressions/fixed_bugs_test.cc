// Regression tests of findings F1 and F2 (docs/security.md, "Findings"):
// each reproduced a bug and asserts the fixed behaviour.
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/agent_server.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "ipc/frame.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/channel.h"
#include "rpc/envelope.h"
#include "testing/test_secret.h"
#include "tests/hostile/live_server.h"

namespace zen {
namespace {

// F1: RuntimeSettings takes a document of ASCII blanks as "none yet", so
// AgentServer::UpdateConfig accepts it, but caches the blanks as they are;
// `updated_settings` then splices them into a raw_json field, which the
// encoder refuses, and every worker's poll fails with INTERNAL until the
// next document arrives.
TEST(FixedBugTest, BlankSettingsDocumentDoesNotBreakUpdatedSettings) {
  const ipc::Secret secret = testing::TestSecret();
  for (const char* blank : {"  ", "\n", "\f", " \t\r\n"}) {
    for (bool config : {true, false}) {
      auto server = AgentServer::Create(&secret);
      ASSERT_TRUE(server.ok());
      ASSERT_TRUE((*server)->Start().ok());
      ASSERT_TRUE((config ? (*server)->UpdateConfig(blank)
                          : (*server)->UpdateFirewallLists(blank))
                      .ok());
      rpc::ChannelOptions options;
      options.connector.port = (*server)->port();
      auto channel = rpc::Channel::Create(&secret, options);
      ASSERT_TRUE(channel.ok());
      agent::WorkerAgent::Stub stub(channel->get());
      auto settings = stub.UpdatedSettings(agent::UpdatedSettingsRequest());
      EXPECT_TRUE(settings.ok())
          << (config ? "config" : "lists") << " of " << std::strlen(blank)
          << " blanks: " << settings.status();
    }
  }
}

// F2: when a client half-closes its side (sends its requests, then
// shutdown(SHUT_WR), then reads), the server answers the calls it runs
// inline but loses those whose reading was handed to another thread (any
// call slower than the inline budget): the new reader sees end of stream
// and shuts the whole connection down before they respond. The reference
// (sequential) answers them all before it reads the end.
TEST(FixedBugTest, HalfClosedClientGetsTheAnswersOfCallsInFlight) {
  hostile::LiveServer server;
  absl::StatusOr<ipc::UniqueFd> fd =
      hostile::AuthenticatedConnect(server.port(), server.secret());
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(
      hostile::SendBytes(fd->get(), hostile::Frame(R"(["h","slow",[0.2],{}])"))
          .ok());
  ASSERT_EQ(::shutdown(fd->get(), SHUT_WR), 0);
  absl::StatusOr<std::string> answer =
      hostile::ReadFrame(fd->get(), zen::Now() + absl::Seconds(5));
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(*answer, R"(["h","done",null])");
}

}  // namespace
}  // namespace zen
