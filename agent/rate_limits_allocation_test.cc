// A warm calculate_rate_limits allocates nothing on the parent, nor does a
// worker's decision in the shared zone: one of them is made for every
// request of a rate-limited route. Counts this thread's operator new calls
// (replaced below) over calls made after a warm-up.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "agent/agent_service.h"
#include "agent/model/rate_limit_zone.h"
#include "agent/model/rate_limiter.h"
#include "gtest/gtest.h"
#include "proto/zen/agent/worker_agent.pb.h"

namespace {
thread_local uint64_t t_allocations = 0;
}  // namespace

// Every form that pairs with the plain deletes below (the aligned forms
// pair with their own): a sanitizer checks that each block is freed by the
// family that allocated it.
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  ++t_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new(size_t size) {
  if (void* p = operator new(size, std::nothrow)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  return operator new(size, std::nothrow);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace zen {
namespace {

// Longer than std::string's inline capacity, so that a string built anew
// on each call would allocate.
constexpr char kRoute[] = "/api/v1/accounts/:id/login";
constexpr char kIpv6[] = "2001:DB8:85A3:0:0:8A2E:370:7334";
constexpr char kActorId[] = "user-0123456789abcdef";
constexpr char kConfig[] = R"({"endpoints": [{
  "method": "POST", "route": "/api/v1/accounts/:id/login",
  "rateLimiting": {"enabled": true, "maxRequests": 1000000,
                   "windowSizeInMS": 60000}}]})";

// Admitted windows keep every request's time: a window's log doubles at 4,
// 8, ..., 256 and 512 requests. Warm-up and measured calls stay between.
constexpr int kWarmupCalls = 300;
constexpr int kMeasuredCalls = 200;

class RateLimitsAllocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(service_.UpdateConfig(kConfig).ok());
    request_.mutable_route()->set_method("POST");
    request_.mutable_route()->set_path(kRoute);
    request_.set_client_ip(kIpv6);
  }

  // Allocations made by `kMeasuredCalls` calls after `kWarmupCalls`; the
  // response is cleared between calls, as the RPC layer's reused one is.
  uint64_t AllocationsOfWarmCalls() {
    for (int i = 0; i < kWarmupCalls; ++i) Call();
    const uint64_t before = t_allocations;
    for (int i = 0; i < kMeasuredCalls; ++i) Call();
    return t_allocations - before;
  }

  void Call() {
    response_.Clear();
    service_.CalculateRateLimits(request_, &response_);
    ASSERT_TRUE(response_.has_throttled());
    ASSERT_FALSE(response_.throttled());
  }

  AgentService service_{AgentServiceOptions()};
  agent::CalculateRateLimitsRequest request_;
  agent::CalculateRateLimitsResponse response_;
};

// The parent's service over a zone, and a worker's limiter over the same
// zone, with a limit the zone's windows hold (and no call reaches).
constexpr char kZoneConfig[] = R"({"endpoints": [{
  "method": "POST", "route": "/api/v1/accounts/:id/login",
  "rateLimiting": {"enabled": true, "maxRequests": 1000,
                   "windowSizeInMS": 60000}}]})";

std::unique_ptr<RateLimitZone> ZoneFor1000() {
  RateLimitZoneOptions options;
  options.bytes = size_t{1} << 20;
  options.max_requests_per_window = 1000;
  return *RateLimitZone::Create(options);
}

AgentServiceOptions WithZone(RateLimitZone* zone) {
  AgentServiceOptions options;
  options.rate_limiter.zone = zone;
  return options;
}

class ZoneAllocationTest : public RateLimitsAllocationTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(zone_service_.UpdateConfig(kZoneConfig).ok());
    RateLimitsAllocationTest::SetUp();
  }
  std::unique_ptr<RateLimitZone> zone_ = ZoneFor1000();
  AgentService zone_service_{WithZone(zone_.get())};
};

TEST_F(ZoneAllocationTest, WarmParentCallInTheZoneAllocatesNothing) {
  auto call = [&] {
    response_.Clear();
    zone_service_.CalculateRateLimits(request_, &response_);
    ASSERT_TRUE(response_.has_throttled());
    ASSERT_FALSE(response_.throttled());
  };
  for (int i = 0; i < kWarmupCalls; ++i) call();
  const uint64_t before = t_allocations;
  for (int i = 0; i < kMeasuredCalls; ++i) call();
  EXPECT_EQ(t_allocations - before, 0u);
  EXPECT_EQ(response_.current_requests(), kWarmupCalls + kMeasuredCalls);
  EXPECT_EQ(zone_service_.rate_limiter().zone_unsupported_checks(), 0u);
  EXPECT_EQ(zone_->tracked_windows(), 1u);
}

TEST_F(ZoneAllocationTest, WarmWorkerDecisionInTheZoneAllocatesNothing) {
  RateLimiterOptions options;
  options.zone = zone_.get();
  RateLimiter worker(options);
  const std::shared_ptr<const RuntimeSettings> settings =
      zone_service_.settings();
  RateLimitResult result;
  auto decide = [&] {
    return worker.Decide(RouteView("POST", kRoute), kIpv6, kActorId, *settings,
                         absl::FromUnixSeconds(1700000000),
                         ZoneFallback::kReport, &result);
  };
  for (int i = 0; i < kWarmupCalls; ++i)
    ASSERT_EQ(decide(), RateLimitPath::kZone);
  const uint64_t before = t_allocations;
  for (int i = 0; i < kMeasuredCalls; ++i) {
    ASSERT_EQ(decide(), RateLimitPath::kZone);
  }
  EXPECT_EQ(t_allocations - before, 0u);
  EXPECT_FALSE(result.throttled);
  EXPECT_EQ(result.current_requests, kWarmupCalls + kMeasuredCalls);
}

TEST_F(RateLimitsAllocationTest, WarmIpCallAllocatesNothing) {
  EXPECT_EQ(AllocationsOfWarmCalls(), 0u);
  EXPECT_EQ(response_.discriminator(), kIpv6);
  EXPECT_EQ(response_.current_requests(), kWarmupCalls + kMeasuredCalls);
}

TEST_F(RateLimitsAllocationTest, WarmActorCallAllocatesNothing) {
  request_.mutable_actor()->set_id(kActorId);
  EXPECT_EQ(AllocationsOfWarmCalls(), 0u);
  EXPECT_EQ(response_.discriminator(), std::string("actor:") + kActorId);
}

// What the RPC layer relies on to decode each call into the same request
// message: Clear keeps the route and actor (they have has-bits) and their
// strings' buffers, yet they read as absent until decoded again.
TEST_F(RateLimitsAllocationTest, ClearedRequestKeepsItsParts) {
  request_.mutable_actor()->set_id(kActorId);
  request_.Clear();
  EXPECT_FALSE(request_.has_route());
  EXPECT_FALSE(request_.has_actor());
  // Assigned in place, as the decoder does (a setter taking a char* would
  // build a std::string first).
  const uint64_t before = t_allocations;
  request_.mutable_route()->mutable_method()->assign("POST");
  request_.mutable_route()->mutable_path()->assign(kRoute);
  request_.mutable_client_ip()->assign(kIpv6);
  request_.mutable_actor()->mutable_id()->assign(kActorId);
  EXPECT_EQ(t_allocations - before, 0u);
  EXPECT_TRUE(request_.has_route());
  EXPECT_TRUE(request_.has_actor());
}

}  // namespace
}  // namespace zen
