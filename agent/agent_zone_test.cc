// The Agent's shared rate-limit zone across real processes: mapped in the
// parent before any fork, counted in by the parent's calculate_rate_limits
// and by forked workers deciding for themselves, beside workers that still
// ask the parent over RPC.
#include <sys/mman.h>
#include <sys/resource.h>

#include <atomic>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/agent.h"
#include "agent/agent_service.h"
#include "agent/model/rate_limit_zone.h"
#include "agent/model/rate_limiter.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/channel.h"
#include "testing/agent/agent_test_util.h"
#include "testing/forked_child.h"
#include "testing/sanitizers.h"

namespace zen {
namespace {

using ::zen::testing::FastAgentOptions;
using ::zen::testing::StartTogether;
using ::zen::testing::WaitAll;

std::string LimitConfig(int limit) {
  return absl::StrCat(R"({"configUpdatedAt": 1, "endpoints": [
      {"method": "POST", "route": "/login", "forceProtectionOff": false,
       "rateLimiting": {"enabled": true, "maxRequests": )",
                      limit, R"(, "windowSizeInMS": 600000}}]})");
}

constexpr char kClientIp[] = "198.51.100.23";

// What the children saw, in memory shared across their fork.
struct FleetCounts {
  std::atomic<int> admitted{0};
  std::atomic<int> throttled{0};
  std::atomic<int> zone_decisions{0};
  std::atomic<int> asked_parent{0};  // by the zone workers, on a fallback
  std::atomic<int> rpc_failures{0};
};

// A raw generated stub on an authenticated channel to the parent, as a
// worker that speaks the protocol itself (the reference's) holds one.
class ParentStub {
 public:
  absl::Status Connect(const ipc::Secret& secret, uint16_t port) {
    rpc::ChannelOptions options;
    options.connector.port = port;
    absl::StatusOr<std::unique_ptr<rpc::Channel>> channel =
        rpc::Channel::Create(&secret, options);
    if (!channel.ok()) return channel.status();
    channel_ = *std::move(channel);
    stub_ = std::make_unique<agent::WorkerAgent::Stub>(channel_.get());
    return absl::OkStatus();
  }

  // calculate_rate_limits for one request to POST /login from kClientIp;
  // false when the call failed.
  bool Calculate(bool* throttled) {
    agent::CalculateRateLimitsRequest request;
    request.mutable_route()->set_method("POST");
    request.mutable_route()->set_path("/login");
    request.set_client_ip(kClientIp);
    agent::CalculateRateLimitsResponse response;
    if (!stub_->CalculateRateLimits(request, &response).ok() ||
        !response.has_throttled()) {
      return false;
    }
    *throttled = response.throttled();
    return true;
  }

  void Stop() {
    if (channel_ != nullptr) channel_->Stop();
  }

 private:
  std::unique_ptr<rpc::Channel> channel_;
  std::unique_ptr<agent::WorkerAgent::Stub> stub_;
};

// `zone_workers` children ask their Agent's client (which decides in the
// Agent's zone, asking the parent when the zone cannot decide),
// `rpc_workers` ask the parent over a raw stub for every request; each sends
// `requests` requests for one client on one endpoint limited to `limit` per 10
// minutes.
class MixedFleetTest : public ::testing::TestWithParam<int> {
 protected:
  static constexpr int kZoneWorkers = 4;
  static constexpr int kRpcWorkers = 4;
  static constexpr int kRequestsPerWorker = 60;

  void SetUp() override {
    if (testing::kThreadSanitizer) {
      GTEST_SKIP() << testing::kTsanForkSkipReason;
    }
    void* shared = mmap(nullptr, sizeof(FleetCounts), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(shared, MAP_FAILED);
    counts_ = new (shared) FleetCounts();
  }
  void TearDown() override {
    if (counts_ != nullptr) munmap(counts_, sizeof(FleetCounts));
  }

  // Runs the fleet against a fresh Agent; returns after every child ended.
  void RunFleet(int limit) {
    AgentOptions options = FastAgentOptions();
    // Exactly `limit` holds while the zone is never busy: a lock holder
    // descheduled for 100 ms is possible on a loaded machine, for 10 s not.
    options.rate_limit_zone.lock_timeout = absl::Seconds(10);
    auto agent = Agent::Create(options);
    ASSERT_TRUE(agent.ok()) << agent.status();
    RateLimitZone* zone = (*agent)->rate_limit_zone();
    ASSERT_NE(zone, nullptr);
    ASSERT_TRUE((*agent)->server()->UpdateConfig(LimitConfig(limit)).ok());
    const uint16_t port = (*agent)->server()->port();
    const ipc::Secret& secret = (*agent)->secret();
    FleetCounts* counts = counts_;
    auto children = StartTogether(
        kZoneWorkers + kRpcWorkers, [&](int index) -> absl::Status {
          ParentStub parent;
          if (absl::Status connected = parent.Connect(secret, port);
              !connected.ok()) {
            return connected;
          }
          // Zone workers ask their Agent's own client, as a host does: it
          // decides in the zone once it holds the parent's config.
          AgentClient* client = nullptr;
          if (index < kZoneWorkers) {
            const absl::Time give_up = zen::Now() + absl::Seconds(20);
            while ((client = (*agent)->client()) == nullptr ||
                   !client->stats().config_generation) {
              if (zen::Now() > give_up) {
                return absl::DeadlineExceededError("no config in the worker");
              }
              absl::SleepFor(absl::Milliseconds(2));
            }
          }
          uint64_t mine_in_zone = 0, mine_asked_parent = 0;
          for (int i = 0; i < kRequestsPerWorker; ++i) {
            bool throttled = false;
            if (index < kZoneWorkers) {
              const RateLimitAnswer answer = client->CalculateRateLimits(
                  RouteKey{"POST", "/login"}, kClientIp, std::nullopt);
              if (!answer.result || answer.source == RateLimitSource::kWorker) {
                ++counts->rpc_failures;  // No limit, or not the shared one.
                continue;
              }
              if (answer.source == RateLimitSource::kZone) {
                ++counts->zone_decisions;
                ++mine_in_zone;
              } else {
                ++counts->asked_parent;
                ++mine_asked_parent;
              }
              throttled = answer.result->throttled;
            } else if (!parent.Calculate(&throttled)) {
              ++counts->rpc_failures;
              continue;
            }
            ++(throttled ? counts->throttled : counts->admitted);
          }
          if (client != nullptr) {
            // The client's own count of its zone decisions and deferrals
            // agrees with the answers it gave.
            const AgentClientStats stats = client->stats();
            if (stats.rate_limits_from_zone != mine_in_zone ||
                stats.rate_limits_zone_deferred != mine_asked_parent) {
              return absl::InternalError(absl::StrCat(
                  "stats: ", stats.rate_limits_from_zone, " from the zone, ",
                  stats.rate_limits_zone_deferred, " deferred; answers: ",
                  mine_in_zone, " and ", mine_asked_parent));
            }
          }
          parent.Stop();
          return absl::OkStatus();
        });
    ASSERT_TRUE(children.ok()) << children.status();
    WaitAll(*children);
    windows_in_zone_ = zone->tracked_windows();
    parent_unsupported_ =
        (*agent)->server()->rate_limiter().zone_unsupported_checks();
  }

  FleetCounts* counts_ = nullptr;
  size_t windows_in_zone_ = 0;
  uint64_t parent_unsupported_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Limits, MixedFleetTest,
                         // Within a zone window (100 requests), and above.
                         ::testing::Values(40, 150));

TEST_P(MixedFleetTest, AdmitsExactlyTheLimitInTotal) {
  const int limit = GetParam();
  RunFleet(limit);
  constexpr int kRequests = (kZoneWorkers + kRpcWorkers) * kRequestsPerWorker;
  EXPECT_EQ(counts_->rpc_failures.load(), 0);
  EXPECT_EQ(counts_->admitted.load(), limit);
  EXPECT_EQ(counts_->throttled.load(), kRequests - limit);
  if (limit <= 100) {
    // The zone workers decided every request themselves, in the window the
    // parent's calculate_rate_limits counted in.
    EXPECT_EQ(counts_->zone_decisions.load(),
              kZoneWorkers * kRequestsPerWorker);
    EXPECT_EQ(counts_->asked_parent.load(), 0);
    EXPECT_EQ(windows_in_zone_, 1u);
    EXPECT_EQ(parent_unsupported_, 0u);
  } else {
    // Above what a zone window holds: everyone asked the parent, whose
    // own windows decided.
    EXPECT_EQ(counts_->zone_decisions.load(), 0);
    EXPECT_EQ(counts_->asked_parent.load(), kZoneWorkers * kRequestsPerWorker);
    EXPECT_EQ(windows_in_zone_, 0u);
    EXPECT_EQ(parent_unsupported_, static_cast<uint64_t>(kRequests));
  }
}

TEST(AgentZoneTest, ParentServiceCountsInTheZone) {
  auto agent = Agent::Create(FastAgentOptions());
  ASSERT_TRUE(agent.ok()) << agent.status();
  RateLimitZone* zone = (*agent)->rate_limit_zone();
  ASSERT_NE(zone, nullptr);
  EXPECT_EQ(zone->max_requests_per_window(),
            RateLimitZoneOptions().max_requests_per_window);
  ASSERT_TRUE((*agent)->server()->UpdateConfig(LimitConfig(3)).ok());
  agent::CalculateRateLimitsRequest request;
  request.mutable_route()->set_method("POST");
  request.mutable_route()->set_path("/login");
  request.set_client_ip(kClientIp);
  agent::CalculateRateLimitsResponse response;
  (*agent)->server()->service().CalculateRateLimits(request, &response);
  EXPECT_FALSE(response.throttled());
  EXPECT_EQ(zone->tracked_windows(), 1u);
  for (int i = 0; i < 4; ++i) {
    (*agent)->server()->service().CalculateRateLimits(request, &response);
  }
  EXPECT_TRUE(response.throttled());
  // Five checks in all, each counted in the zone (throttled ones too), and
  // the parent's /metrics text says so.
  EXPECT_EQ(zone->counted_checks(), 5u);
  std::string metrics;
  (*agent)->server()->WriteMetrics(&metrics);
  EXPECT_NE(metrics.find("\nzen_agent_rate_limit_zone_checks_total 5\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("\nzen_agent_rate_limit_zone_windows 1\n"),
            std::string::npos);
}

TEST(AgentZoneTest, SizedFromTheOptions) {
  AgentOptions options = FastAgentOptions();
  options.rate_limit_zone.bytes = size_t{1} << 20;
  options.rate_limit_zone.max_requests_per_window = 500;
  auto agent = Agent::Create(options);
  ASSERT_TRUE(agent.ok()) << agent.status();
  RateLimitZone* zone = (*agent)->rate_limit_zone();
  ASSERT_NE(zone, nullptr);
  EXPECT_EQ(zone->max_requests_per_window(), 500u);
  EXPECT_EQ(zone->image_bytes(), size_t{1} << 20);
}

TEST(AgentZoneTest, DisabledOrZeroBytesMapsNone) {
  AgentOptions disabled = FastAgentOptions();
  disabled.rate_limit_zone.enabled = false;
  auto agent = Agent::Create(disabled);
  ASSERT_TRUE(agent.ok()) << agent.status();
  EXPECT_EQ((*agent)->rate_limit_zone(), nullptr);
  AgentOptions zero = FastAgentOptions();
  zero.rate_limit_zone.bytes = 0;
  auto zero_agent = Agent::Create(zero);
  ASSERT_TRUE(zero_agent.ok()) << zero_agent.status();
  EXPECT_EQ((*zero_agent)->rate_limit_zone(), nullptr);
}

TEST(AgentZoneTest, ImpossibleZoneOptionsAreRejected) {
  AgentOptions no_requests = FastAgentOptions();
  no_requests.rate_limit_zone.max_requests_per_window = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(Agent::Create(no_requests).status()));
  AgentOptions tiny = FastAgentOptions();
  tiny.rate_limit_zone.bytes = 100;
  EXPECT_TRUE(absl::IsInvalidArgument(Agent::Create(tiny).status()));
}

TEST(AgentZoneTest, RefusedMappingRunsWithoutTheZone) {
  if (testing::UnderSanitizer()) {
    GTEST_SKIP() << "an address-space limit starves the sanitizer runtime";
  }
  // In a child: a limit on address space makes the kernel refuse the
  // mapping, whatever the machine's overcommit policy.
  testing::ChildOutcome outcome = testing::RunInChild([]() -> absl::Status {
    const rlimit limit = {size_t{8} << 30, size_t{8} << 30};
    if (setrlimit(RLIMIT_AS, &limit) != 0) {
      return absl::InternalError("setrlimit");
    }
    AgentOptions options = FastAgentOptions();
    options.rate_limit_zone.bytes = size_t{16} << 30;
    auto agent = Agent::Create(options);
    if (!agent.ok()) return agent.status();
    if ((*agent)->rate_limit_zone() != nullptr) {
      return absl::InternalError("a zone was mapped past the limit");
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
}

}  // namespace
}  // namespace zen
