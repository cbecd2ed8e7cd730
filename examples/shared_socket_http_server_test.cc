#include "examples/shared_socket_http_server.h"

#include <httplib.h>

#include <string>

#include "absl/time/clock.h"
#include "base/clock.h"
#include "examples/listen_socket.h"
#include "gtest/gtest.h"

namespace zen::examples {
namespace {

std::string Answer(uint16_t port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(2, 0);
  httplib::Result result = client.Get("/");
  return result ? result->body : "no response";
}

void Install(SharedSocketHttpServer* server, std::string name) {
  server->Get("/", [name](const httplib::Request&, httplib::Response& res) {
    res.set_content(name, "text/plain");
  });
}

TEST(SharedSocketHttpServerTest, ServesTheGivenSocket) {
  absl::StatusOr<ipc::UniqueFd> listener = ListenTcp("127.0.0.1", 0);
  ASSERT_TRUE(listener.ok()) << listener.status();
  const uint16_t port = BoundPort(listener->get()).value();
  SharedSocketHttpServer server(listener->get(), 2);
  Install(&server, "one");
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(Answer(port), "one");
  EXPECT_FALSE(server.accept_loop_done());
}

// A worker that stops must leave the shared socket usable by the others:
// httplib's stop() would shut it down for every process.
TEST(SharedSocketHttpServerTest, StoppingLeavesTheSocketToOthers) {
  absl::StatusOr<ipc::UniqueFd> listener = ListenTcp("127.0.0.1", 0);
  ASSERT_TRUE(listener.ok()) << listener.status();
  const uint16_t port = BoundPort(listener->get()).value();
  {
    SharedSocketHttpServer first(listener->get(), 2);
    Install(&first, "first");
    ASSERT_TRUE(first.Start().ok());
    EXPECT_EQ(Answer(port), "first");
    first.StopAccepting();
    EXPECT_TRUE(first.accept_loop_done());
  }
  SharedSocketHttpServer second(listener->get(), 2);
  Install(&second, "second");
  ASSERT_TRUE(second.Start().ok());
  EXPECT_EQ(Answer(port), "second");
}

TEST(SharedSocketHttpServerTest, StopInterruptsABlockedAcceptPromptly) {
  absl::StatusOr<ipc::UniqueFd> listener = ListenTcp("127.0.0.1", 0);
  ASSERT_TRUE(listener.ok()) << listener.status();
  SharedSocketHttpServer server(listener->get(), 2);
  Install(&server, "idle");
  ASSERT_TRUE(server.Start().ok());
  absl::SleepFor(absl::Milliseconds(50));  // Into accept(2), no client.
  const absl::Time start = zen::Now();
  server.StopAccepting();
  EXPECT_LT(zen::Now() - start, absl::Seconds(1));
  server.StopAccepting();  // Idempotent.
}

TEST(SharedSocketHttpServerTest, StartTwiceFails) {
  absl::StatusOr<ipc::UniqueFd> listener = ListenTcp("127.0.0.1", 0);
  ASSERT_TRUE(listener.ok()) << listener.status();
  SharedSocketHttpServer server(listener->get(), 1);
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(server.Start().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace zen::examples
