// Server and Channel over real loopback sockets (and forked processes):
// calls, errors, concurrency, deadlines, hand-off of the reading, malformed
// and oversized frames. Lifecycles are in rpc_lifecycle_test.cc.
#include <signal.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/timer_slack.h"
#include "gtest/gtest.h"
#include "ipc/connector.h"
#include "ipc/socket_io.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "testing/deadline.h"
#include "testing/forked_child.h"
#include "testing/rpc_fixture.h"
#include "testing/sanitizers.h"
#include "testing/test_secret.h"

namespace zen::rpc {
namespace {

using ::zen::testing::Eventually;
using ::zen::testing::Fixture;
using ::zen::testing::In;
using ::zen::testing::Json;

TEST(RpcTest, EchoAddAndNull) {
  Fixture f;
  auto channel = f.Connect();
  EXPECT_EQ(Json(channel->Call("echo", R"([{"a": [1,2]}])", "{}")),
            R"({"a": [1,2]})");
  EXPECT_EQ(Json(channel->Call("echo", "[]", R"({"k":"v"})")), R"({"k":"v"})");
  EXPECT_EQ(Json(channel->Call("add", "[]", R"({"a":2,"b":3})")), "5");
  EXPECT_EQ(Json(channel->Call("add", "[1,2,3]", "{}")), "6");
  EXPECT_EQ(Json(channel->Call("ping", "[1,2,3]", R"({"x":1})")), "null");
  EXPECT_EQ(Json(channel->Call("noop", "[]", "{}")), "null");
}

TEST(RpcTest, ErrorsCarryCodeAndMessage) {
  Fixture f;
  auto channel = f.Connect();
  auto unknown = channel->Call("nope", "[]", "{}");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(unknown.status().message(), "undefined handler 'nope'");
  auto fail = channel->Call("fail", "[]", "{}");
  EXPECT_EQ(fail.status().code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(fail.status().message(), "boom");
  EXPECT_EQ(Json(channel->Call("risky", "[]", "{}")), "\"safe result\"");
  EXPECT_EQ(Json(channel->Call("repeat", "[]", "{}")), "\"first\"");
  // The connection survived all of it.
  EXPECT_EQ(Json(channel->Call("echo", "[7]", "{}")), "7");
}

TEST(RpcTest, ThousandConcurrentCallsFromSixteenThreadsEachGetTheirOwnAnswer) {
  Fixture f;
  auto channel = f.Connect();
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 63; ++i) {
        const std::string value = absl::StrCat("\"t", t, "-", i, "\"");
        auto r = channel->Call("echo", absl::StrCat("[", value, "]"), "{}",
                               CallOptions::WithTimeout(absl::Seconds(20)));
        if (!r.ok() || r->json() != value) wrong.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(RpcTest, SlowHandlerDoesNotHoldUpLaterCallsOnTheSameConnection) {
  Fixture f;
  auto channel = f.Connect();
  std::atomic<bool> slow_done{false};
  std::thread slow([&] {
    EXPECT_EQ(Json(channel->Call("slow", "[0.5]", "{}")), "\"done\"");
    slow_done = true;
  });
  // The slow call is in its handler before the echo is sent (a fixed sleep
  // could end first on a loaded machine, and the echo then merely came
  // first).
  ASSERT_TRUE(Eventually([&] { return f.server->stats().calls >= 1; }));
  EXPECT_EQ(Json(channel->Call("echo", "[1]", "{}")), "1");
  EXPECT_FALSE(slow_done.load());  // Answered out of order, before it.
  slow.join();
  EXPECT_GE(f.server->stats().reliefs, 1u);
}

// The supervisor runs with a timer slack of a budget (its ticks may wait
// for another interrupt); a reader it starts for a relief must not pass
// that on to the handlers it runs, whose timed waits need their precision.
TEST(RpcTest, ARelievingReaderRunsHandlersWithTheServersTimerSlack) {
  const ipc::Secret secret = testing::TestSecret();
  ServerOptions options;
  options.inline_handler_budget = absl::Milliseconds(20);
  auto created = Server::Create(&secret, options);
  ASSERT_TRUE(created.ok());
  std::unique_ptr<Server> server = std::move(*created);
  testing::RegisterBuiltinHandlers(server.get());
  server->RegisterHandler("timer_slack", [](ServerCall& call) {
    call.Respond(absl::StrCat(absl::ToInt64Nanoseconds(ThreadTimerSlack())));
    return absl::OkStatus();
  });
  ASSERT_TRUE(server->Start().ok());
  const std::string expected =
      absl::StrCat(absl::ToInt64Nanoseconds(ThreadTimerSlack()));
  ChannelOptions channel_options;
  channel_options.connector.port = server->port();
  auto channel = Channel::Create(&secret, channel_options);
  ASSERT_TRUE(channel.ok());
  EXPECT_EQ(Json((*channel)->Call("timer_slack", "[]", "{}")), expected);
  std::thread slow([&] {
    EXPECT_EQ(Json((*channel)->Call("slow", "[0.5]", "{}")), "\"done\"");
  });
  // Once the slow handler is relieved, the next call is read and run by the
  // reader the supervisor started.
  ASSERT_TRUE(testing::Eventually([&] { return server->stats().reliefs >= 1; },
                                  absl::Seconds(10)));
  EXPECT_EQ(Json((*channel)->Call("timer_slack", "[]", "{}")), expected);
  slow.join();
}

TEST(RpcTest, SlowHandlersBeyondTheThreadCapWaitInsteadOfAddingThreads) {
  ServerOptions options;
  options.max_relieved_handlers = 2;
  Fixture f(options);
  auto channel = f.Connect();
  // Six slow calls on one connection: two are relieved (each keeps a thread)
  // and a third holds the reading, so they run three at a time, in two
  // rounds (without the cap all six run at once).
  std::atomic<int> done{0};
  std::vector<std::thread> callers;
  const absl::Time start = zen::Now();
  for (int i = 0; i < 6; ++i) {
    callers.emplace_back([&] {
      EXPECT_EQ(Json(channel->Call("slow", "[0.3]", "{}")), "\"done\"");
      done.fetch_add(1);
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(done.load(), 6);
  const ServerStats stats = f.server->stats();
  EXPECT_GE(stats.reliefs_refused, 1u);
  EXPECT_GE(zen::Now() - start, absl::Milliseconds(550));
  EXPECT_EQ(Json(channel->Call("echo", "[1]", "{}")), "1");
}

TEST(RpcTest, RespondEarlyReturnsBeforeTheHandlerFinishes) {
  Fixture f;
  auto channel = f.Connect();
  const absl::Time start = zen::Now();
  EXPECT_EQ(Json(channel->Call("early", "[]", "{}")), "\"ok\"");
  EXPECT_LT(zen::Now() - start, absl::Milliseconds(150));
}

TEST(RpcTest, DeadlineExceededLeavesConnectionUsable) {
  Fixture f;
  auto channel = f.Connect();
  auto r = channel->Call("slow", "[0.3]", "{}",
                         CallOptions::WithTimeout(absl::Milliseconds(50)));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(Json(channel->Call("echo", "[2]", "{}")), "2");
  zen::SleepFor(absl::Milliseconds(400));  // The late answer is ignored.
  EXPECT_EQ(Json(channel->Call("echo", "[3]", "{}")), "3");
}

TEST(RpcTest, ManyThreadsWithMixedDeadlinesOnAnOutOfOrderServer) {
  Fixture f;
  auto channel = f.Connect();
  std::atomic<int> wrong{0};
  // Asynchronous calls in flight at the same time, half of them timing out.
  std::atomic<int> async_ok{0};
  for (int i = 0; i < 20; ++i) {
    const bool times_out = i % 2 == 0;
    const std::string value = absl::StrCat("\"a", i, "\"");
    channel->CallAsync(
        times_out ? "slow" : "echo",
        times_out ? "[0.05]" : absl::StrCat("[", value, "]"), "{}",
        CallOptions::WithTimeout(times_out ? absl::Milliseconds(10)
                                           : absl::Seconds(20)),
        [&async_ok, times_out, value](absl::StatusOr<RawResult> r) {
          const bool right = times_out ? absl::IsDeadlineExceeded(r.status())
                                       : (r.ok() && r->json() == value);
          if (right) async_ok.fetch_add(1);
        });
  }
  // The server runs slow handlers concurrently and answers in any order;
  // timed-out calls get their answers late, for ids nobody waits for.
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 30; ++i) {
        switch (i % 3) {
          case 0: {
            auto r =
                channel->Call("slow", "[0.05]", "{}",
                              CallOptions::WithTimeout(absl::Milliseconds(10)));
            if (!absl::IsDeadlineExceeded(r.status())) wrong.fetch_add(1);
            break;
          }
          case 1: {
            auto r = channel->Call("slow", "[0.02]", "{}",
                                   CallOptions::WithTimeout(absl::Seconds(20)));
            if (Json(r) != "\"done\"") wrong.fetch_add(1);
            break;
          }
          default: {
            const std::string value = absl::StrCat("\"t", t, "-", i, "\"");
            auto r = channel->Call("echo", absl::StrCat("[", value, "]"), "{}",
                                   CallOptions::WithTimeout(absl::Seconds(20)));
            if (!r.ok() || r->json() != value) wrong.fetch_add(1);
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  const absl::Time deadline = In(absl::Seconds(10));
  while (async_ok.load() < 20 && zen::Now() < deadline)
    zen::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(async_ok.load(), 20);
  EXPECT_EQ(Json(channel->Call("echo", "[1]", "{}")), "1");
}

TEST(RpcTest, ReaderTimingOutHandsReadingToAWaitingCaller) {
  Fixture f;
  auto channel = f.Connect();
  // The first caller, alone, reads for everyone; it gives up at 50 ms while
  // the second still waits: the second must then read its own answer.
  std::thread first([&] {
    auto r = channel->Call("slow", "[0.5]", "{}",
                           CallOptions::WithTimeout(absl::Milliseconds(50)));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  });
  zen::SleepFor(absl::Milliseconds(10));
  const absl::Time start = zen::Now();
  EXPECT_EQ(Json(channel->Call("slow", "[0.1]", "{}",
                               CallOptions::WithTimeout(absl::Seconds(5)))),
            "\"done\"");
  EXPECT_LT(zen::Now() - start, absl::Seconds(2));
  first.join();
  // The late answer to the first call arrives for an id nobody waits for.
  zen::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(Json(channel->Call("echo", "[4]", "{}")), "4");
}

TEST(RpcTest, ErrorReadByAnotherCallerReachesItsCallerIntact) {
  Fixture f;
  auto channel = f.Connect();
  // The first caller holds the reading token while the second's error
  // arrives: the first delivers it, keeps reading, and drops its parsed
  // envelope only after the second has used and dropped its status.
  std::thread reader([&] {
    EXPECT_EQ(Json(channel->Call("slow", "[0.3]", "{}",
                                 CallOptions::WithTimeout(absl::Seconds(5)))),
              "\"done\"");
  });
  zen::SleepFor(absl::Milliseconds(50));
  {
    const absl::Status unknown = channel->Call("nope", "[]", "{}").status();
    EXPECT_EQ(absl::StrCat(unknown.message()), "undefined handler 'nope'");
    EXPECT_EQ(unknown.code(), absl::StatusCode::kUnimplemented);
  }
  reader.join();
}

TEST(RpcTest, MalformedShapesAreIgnoredAndNonJsonDropsTheConnection) {
  Fixture f;
  ipc::ConnectorOptions options;
  options.port = f.server->port();
  auto stream = ipc::Connect(f.secret, options);
  ASSERT_TRUE(stream.ok());
  for (const char* bad : {"null", "42", "{}", "[]", R"(["a","m",[]])",
                          R"([1,"echo",[],{}])", R"(["a","echo",{},{}])"}) {
    absl::string_view v = bad;
    ASSERT_TRUE((*stream)->Write({&v, 1}, In(absl::Seconds(1))).ok());
  }
  absl::string_view good = R"(["z\/1","echo",["ok"],{}])";
  ASSERT_TRUE((*stream)->Write({&good, 1}, In(absl::Seconds(1))).ok());
  auto reply = (*stream)->Read(In(absl::Seconds(2)));
  ASSERT_TRUE(reply.ok()) << reply.status();
  // The id is echoed exactly as sent, escapes included.
  EXPECT_EQ(reply->body, R"(["z\/1","ok",null])");
  EXPECT_EQ(f.server->stats().malformed_ignored, 7u);

  absl::string_view junk = "this is not json";
  ASSERT_TRUE((*stream)->Write({&junk, 1}, In(absl::Seconds(1))).ok());
  EXPECT_EQ((*stream)->Read(In(absl::Seconds(2))).status().code(),
            absl::StatusCode::kUnavailable);
  // Others are unaffected.
  auto channel = f.Connect();
  EXPECT_EQ(Json(channel->Call("echo", "[1]", "{}")), "1");
}

TEST(RpcTest, OversizedResultIsAnsweredWithAnError) {
  ServerOptions options;
  options.listener.stream.max_frame_size = 1024;
  Fixture f(options);
  ChannelOptions channel_options = f.Options();
  channel_options.connector.stream.max_frame_size = 1024;
  auto channel = Channel::Create(&f.secret, channel_options);
  ASSERT_TRUE(channel.ok());
  auto r = (*channel)->Call("big", "[2000]", "{}");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted)
      << r.status();
  EXPECT_EQ(Json((*channel)->Call("big", "[3]", "{}")), "\"xxx\"");
  auto too_big = (*channel)->Call(
      "echo", absl::StrCat("[\"", std::string(2000, 'y'), "\"]"), "{}");
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(RpcTest, ForkedChildrenCallTheParent) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << testing::kTsanForkSkipReason;
  Fixture f;
  auto children = testing::StartTogether(4, [&f](int i) -> absl::Status {
    auto channel = Channel::Create(&f.secret, f.Options());
    if (!channel.ok()) return channel.status();
    for (int n = 0; n < 100; ++n) {
      auto r = (*channel)->Call("add", "[]",
                                absl::StrCat("{\"a\":", i, ",\"b\":", n, "}"));
      if (!r.ok()) return r.status();
      if (r->json() != absl::StrCat(i + n)) {
        return absl::InternalError(std::string(r->json()));
      }
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(children.ok());
  for (auto& c : *children) {
    auto outcome = c.Wait(In(absl::Seconds(30)));
    EXPECT_TRUE(outcome.ok()) << outcome.ToString();
  }
}

}  // namespace
}  // namespace zen::rpc
