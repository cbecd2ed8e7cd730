// The server's dispatch logic over an in-memory stream pair: no sockets, so
// each wire rule is checked byte for byte.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "gtest/gtest.h"
#include "rpc/server.h"
#include "testing/in_memory_stream.h"
#include "testing/rpc_fixture.h"
#include "testing/test_secret.h"

namespace zen::rpc {
namespace {

class DispatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    secret_ = testing::TestSecret();
    server_ = *Server::Create(&secret_);
    testing::RegisterBuiltinHandlers(server_.get());
    // Answers `{"n":<kwargs>,"big":"xx..."}` in five parts, two borrowed.
    server_->RegisterHandler("parts", [this](ServerCall& call) {
      const absl::string_view parts[] = {"{\"n\":", call.kwargs(),
                                         ",\"big\":", big_, "}"};
      call.Respond(parts);
      return absl::OkStatus();
    });
    // Parks its call; answered later by the test through parked_.
    server_->RegisterHandler("park", [this](ServerCall& call) {
      std::unique_ptr<DeferredResponse> deferred = call.Defer();
      EXPECT_NE(deferred, nullptr);
      EXPECT_EQ(call.Defer(), nullptr);  // Once only.
      EXPECT_FALSE(call.Respond("\"too late\""));
      MutexLock lock(&parked_mu_);
      parked_.push_back(std::move(deferred));
      return absl::OkStatus();
    });
    auto [client, server_end] = testing::InMemoryStreamPair();
    client_ = client;
    serving_ = std::thread([this, s = server_end] { server_->ServeStream(s); });
  }
  void TearDown() override {
    client_->Shutdown();
    serving_.join();
    server_->Stop();
  }
  void Send(absl::string_view json) {
    ASSERT_TRUE(client_->Write({&json, 1}, absl::InfiniteFuture()).ok());
  }
  std::string Receive() {
    auto frame = client_->Read(zen::Now() + absl::Seconds(5));
    return frame.ok() ? std::string(frame->body) : frame.status().ToString();
  }

  // Takes the oldest parked call, waiting up to 5 s for one.
  std::unique_ptr<DeferredResponse> TakeParked() {
    const absl::Time give_up = zen::Now() + absl::Seconds(5);
    for (;;) {
      {
        MutexLock lock(&parked_mu_);
        if (!parked_.empty()) {
          std::unique_ptr<DeferredResponse> d = std::move(parked_.front());
          parked_.erase(parked_.begin());
          return d;
        }
      }
      if (zen::Now() > give_up) return nullptr;
      zen::SleepFor(absl::Milliseconds(1));
    }
  }

  const std::string big_ = "\"" + std::string(1 << 20, 'x') + "\"";
  Mutex parked_mu_;
  std::vector<std::unique_ptr<DeferredResponse>> parked_
      ABSL_GUARDED_BY(parked_mu_);
  ipc::Secret secret_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<ipc::MessageStream> client_;
  std::thread serving_;
};

TEST_F(DispatchTest, AnswersWithTheExactResponseBytes) {
  Send(R"(["abc","echo",["first"],{}])");
  EXPECT_EQ(Receive(), R"(["abc","first",null])");
  Send(R"(["","ping",[],{}])");  // An empty id works, as in the reference.
  EXPECT_EQ(Receive(), R"(["",null,null])");
}

TEST_F(DispatchTest, AResultRespondedInPartsIsSentWhole) {
  Send(R"(["p","parts",[],{"k":[1,2]}])");
  EXPECT_EQ(Receive(),
            absl::StrCat(R"(["p",{"n":{"k":[1,2]},"big":)", big_, "},null]"));
}

TEST_F(DispatchTest, UnknownMethodAndHandlerErrors) {
  Send(R"(["1","nope",[],{}])");
  EXPECT_EQ(
      Receive(),
      R"(["1",null,{"code":"UNIMPLEMENTED","message":"undefined handler 'nope'"}])");
  Send(R"(["2","fail",[],{}])");
  EXPECT_EQ(Receive(), R"(["2",null,{"code":"UNKNOWN","message":"boom"}])");
}

TEST_F(DispatchTest, OnlyTheFirstResponseIsSent) {
  Send(R"(["r","repeat",[],{}])");
  Send(R"(["s","risky",[],{}])");
  Send(R"(["n","noop",[],{}])");
  EXPECT_EQ(Receive(), R"(["r","first",null])");
  EXPECT_EQ(Receive(), R"(["s","safe result",null])");
  EXPECT_EQ(Receive(), R"(["n",null,null])");
}

TEST_F(DispatchTest, ADeferredCallIsAnsweredLaterFromAnotherThread) {
  Send(R"(["w1","park",[],{}])");
  Send(R"(["w2","park",[],{}])");
  std::unique_ptr<DeferredResponse> first = TakeParked();
  std::unique_ptr<DeferredResponse> second = TakeParked();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(first->id_json(), R"("w1")");
  // The reader goes on serving while both wait: nothing holds it.
  Send(R"(["e","echo",["meanwhile"],{}])");
  EXPECT_EQ(Receive(), R"(["e","meanwhile",null])");
  std::thread answer([&] { EXPECT_TRUE(second->Respond(R"({"x":2})")); });
  answer.join();
  EXPECT_EQ(Receive(), R"(["w2",{"x":2},null])");
  EXPECT_FALSE(second->Respond("3"));  // The first answer stands.
  first.reset();  // Dropped unanswered: CANCELLED, not silence.
  EXPECT_EQ(
      Receive(),
      R"(["w1",null,{"code":"CANCELLED","message":"the server dropped the call"}])");
}

TEST_F(DispatchTest, ADeferredCallMayOutliveTheServer) {
  Send(R"(["late","park",[],{}])");
  std::unique_ptr<DeferredResponse> parked = TakeParked();
  ASSERT_NE(parked, nullptr);
  EXPECT_FALSE(parked->connection_gone());
  client_->Shutdown();
  serving_.join();
  // The peer left: its connection is released with the reader, parked call
  // or not (a dead worker's descriptor is not held for the wait).
  EXPECT_TRUE(parked->connection_gone());
  server_->Stop();
  server_.reset();
  // The answer is lost, quietly, and nothing is touched that the server
  // owned (ASan would say).
  EXPECT_TRUE(parked->Respond("1"));
  parked.reset();
  serving_ = std::thread([] {});  // For TearDown.
  server_ = *Server::Create(&secret_);
}

TEST_F(DispatchTest, WrongShapesAreIgnoredWithoutAResponse) {
  for (const char* bad :
       {"null", "[]", R"(["a","echo",[]])", R"([1,"echo",[],{}])",
        R"(["a","echo",[],[]])", R"(["a","echo",{},{}])", "\"s\""}) {
    Send(bad);
  }
  Send(R"(["ok","echo",[1],{}])");
  EXPECT_EQ(Receive(), R"(["ok",1,null])");  // The first (and only) answer.
  EXPECT_EQ(server_->stats().malformed_ignored, 7u);
}

TEST_F(DispatchTest, NonJsonDropsTheConnection) {
  Send("");  // A zero-length frame is not JSON either (as in the reference).
  auto frame = client_->Read(zen::Now() + absl::Seconds(5));
  EXPECT_EQ(frame.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(server_->stats().dropped_non_json, 1u);
}

}  // namespace
}  // namespace zen::rpc
