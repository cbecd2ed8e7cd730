// A foreign worker under an agent created through the C ABI: a forked
// child that takes only what zen_agent_worker_endpoint returned (host, port,
// secret) and speaks the wire protocol with our own client (ipc + rpc, no
// AgentClient, no inherited connection) authenticates, and its
// calculate_rate_limits calls count in the same window as the parent's
// zen_agent_rate_limit; a secret one bit off is refused at the handshake.
//
// The C ABI is linked statically here (//capi:c_api), so that the process
// holds one copy of the agent with the rpc client (docs/c_api.md, "One copy
// per process").
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "ipc/secret.h"
#include "rpc/channel.h"
#include "testing/deadline.h"
#include "testing/forked_child.h"
#include "zen/zen_agent.h"

namespace {

constexpr int kLimit = 5;
constexpr char kConfig[] =
    R"({"endpoints":[{"method":"GET","route":"/limited",)"
    R"("rateLimiting":{"enabled":true,"maxRequests":5,)"
    R"("windowSizeInMS":60000}}]})";
constexpr char kLimitedCall[] =
    R"([{"method":"GET","path":"/limited"},"203.0.113.7",null])";

// What the call hands a host, copied into C++ types.
struct Endpoint {
  std::string host;
  uint16_t port = 0;
  uint8_t secret[ZEN_AGENT_SECRET_SIZE] = {};
};

absl::Status StatusOf(zen_status status, char* message) {
  const std::string text = message != nullptr ? message : "";
  zen_free(message);
  if (status == ZEN_OK) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status), text);
}

absl::Status GetEndpoint(zen_agent* agent, Endpoint* out) {
  char* host = nullptr;
  size_t host_len = 0;
  char* message = nullptr;
  const zen_status status =
      zen_agent_worker_endpoint(agent, &host, &host_len, &out->port,
                                out->secret, sizeof(out->secret), &message);
  if (host != nullptr) out->host.assign(host, host_len);
  zen_free(host);
  return StatusOf(status, message);
}

// A channel to `endpoint` holding its own copy of `key`: what a foreign
// worker builds from the three values alone.
absl::StatusOr<std::unique_ptr<zen::rpc::Channel>> Connect(
    const Endpoint& endpoint, const uint8_t* key,
    std::unique_ptr<zen::ipc::Secret>* secret) {
  absl::StatusOr<zen::ipc::Secret> made = zen::ipc::Secret::FromBytes(
      absl::MakeConstSpan(key, ZEN_AGENT_SECRET_SIZE));
  if (!made.ok()) return made.status();
  *secret = std::make_unique<zen::ipc::Secret>(std::move(*made));
  zen::rpc::ChannelOptions options;
  options.connector.transport = zen::ipc::Transport::kTcp;
  options.connector.host = endpoint.host;
  options.connector.port = endpoint.port;
  options.reconnect = false;
  return zen::rpc::Channel::Create(secret->get(), std::move(options));
}

// In the forked child. `parent_admitted` requests were admitted by the
// parent before the fork; the child's calls fill the window to kLimit.
absl::Status ForeignWorker(zen_agent* agent, int parent_admitted) {
  Endpoint endpoint;
  if (absl::Status s = GetEndpoint(agent, &endpoint); !s.ok()) return s;

  // A secret one bit off: refused at the handshake, nothing called.
  uint8_t wrong[ZEN_AGENT_SECRET_SIZE];
  std::memcpy(wrong, endpoint.secret, sizeof(wrong));
  wrong[7] ^= 0x10;
  std::unique_ptr<zen::ipc::Secret> wrong_secret;
  auto refused = Connect(endpoint, wrong, &wrong_secret);
  if (refused.ok()) {
    return absl::InternalError("a channel with a wrong secret was accepted");
  }

  std::unique_ptr<zen::ipc::Secret> secret;
  auto channel = Connect(endpoint, endpoint.secret, &secret);
  std::memset(endpoint.secret, 0, sizeof(endpoint.secret));
  if (!channel.ok()) return channel.status();
  auto pong = (*channel)->Call("ping", "[]", "{}");
  if (!pong.ok()) return pong.status();

  const int room = kLimit - parent_admitted;
  for (int i = 1; i <= room + 2; ++i) {
    auto result = (*channel)->Call("calculate_rate_limits", kLimitedCall, "{}");
    if (!result.ok()) return result.status();
    const bool want_throttled = i > room;
    const std::string want = absl::StrCat(
        R"({"throttled":)", want_throttled ? "true" : "false", ",");
    if (!absl::StartsWith(result->json(), want)) {
      return absl::InternalError(
          absl::StrCat("call ", i, " of ", room + 2, ": ", result->json()));
    }
  }
  // Events reach the parent's statistics like any worker's.
  auto sent = (*channel)->Call("send_collector_events",
                               R"([[{"type":"track_request"}]])", "{}");
  if (!sent.ok()) return sent.status();
  (*channel)->Stop();
  return absl::OkStatus();
}

TEST(WorkerEndpointTest, ForkedChildAuthenticatesWithWhatTheCallReturns) {
  zen_agent* agent = nullptr;
  char* message = nullptr;
  ASSERT_EQ(zen_agent_create(nullptr, 0, &agent, &message), ZEN_OK)
      << (message != nullptr ? message : "");
  ASSERT_EQ(
      zen_agent_update_config(agent, kConfig, std::strlen(kConfig), nullptr),
      ZEN_OK);

  // Two requests decided in the parent first: the child shares the window.
  constexpr int kParentAdmitted = 2;
  for (int i = 0; i < kParentAdmitted; ++i) {
    zen_rate_limit r;
    ASSERT_EQ(zen_agent_rate_limit(agent, "GET", 3, "/limited", 8,
                                   "203.0.113.7", 11, nullptr, 0, &r, nullptr),
              ZEN_OK);
    EXPECT_EQ(r.applies, 1);
    EXPECT_EQ(r.throttled, 0);
    zen_free(r.discriminator);
  }

  auto child = zen::testing::ForkedChild::Start(
      [agent] { return ForeignWorker(agent, kParentAdmitted); });
  ASSERT_TRUE(child.ok()) << child.status();
  const zen::testing::ChildOutcome outcome =
      child->Wait(zen::Now() + absl::Seconds(60));
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();

  // The window is full in the parent too: the child counted in it.
  zen_rate_limit r;
  ASSERT_EQ(zen_agent_rate_limit(agent, "GET", 3, "/limited", 8, "203.0.113.7",
                                 11, nullptr, 0, &r, nullptr),
            ZEN_OK);
  EXPECT_EQ(r.throttled, 1);
  EXPECT_EQ(r.current_requests, kLimit);
  zen_free(r.discriminator);

  // send_collector_events is acknowledged before the parent folds the
  // events (respond-early, as the reference does), so the child's return
  // does not order the fold before this heartbeat: wait for it to show.
  std::string heartbeat;
  const bool counted = zen::testing::Eventually([&] {
    char* document = nullptr;
    size_t document_len = 0;
    if (zen_agent_heartbeat(agent, 0, nullptr, 0, &document, &document_len,
                            nullptr) != ZEN_OK) {
      return false;
    }
    heartbeat.assign(document, document_len);
    zen_free(document);
    return absl::StrContains(heartbeat, R"("requests":{"total":1,)");
  });
  EXPECT_TRUE(counted) << heartbeat;
  zen_agent_destroy(agent);
}

}  // namespace
