// The server's dispatch logic over an in-memory stream pair: no sockets, so
// each wire rule is checked byte for byte.
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "rpc/server.h"
#include "testing/in_memory_stream.h"
#include "testing/test_secret.h"
#include "tools/rpc_cli/builtin_handlers.h"

namespace zen::rpc {
namespace {

class DispatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    secret_ = testing::TestSecret();
    server_ = *Server::Create(&secret_);
    rpc_cli::RegisterBuiltinHandlers(server_.get());
    // Answers `{"n":<kwargs>,"big":"xx..."}` in five parts, two borrowed.
    server_->RegisterHandler("parts", [this](ServerCall& call) {
      const absl::string_view parts[] = {"{\"n\":", call.kwargs(),
                                         ",\"big\":", big_, "}"};
      call.Respond(parts);
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

  const std::string big_ = "\"" + std::string(1 << 20, 'x') + "\"";
  ipc::Secret secret_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<ipc::MessageStream> client_;
  std::thread serving_;
};

TEST_F(DispatchTest, AnswersWithTheExactResponseBytes) {
  Send(R"(["abc","echo",["first"],{}])");
  EXPECT_EQ(Receive(), R"(["abc","first",null])");
  Send(R"(["","ping",[],{}])");  // An empty id works (reference item 16).
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
  Send("");  // A zero-length frame is not JSON either (reference item 14).
  auto frame = client_->Read(zen::Now() + absl::Seconds(5));
  EXPECT_EQ(frame.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(server_->stats().dropped_non_json, 1u);
}

}  // namespace
}  // namespace zen::rpc
