// The fixture of the Server + Channel tests over real loopback sockets: a
// server with rpc_cli's built-in methods (echo, add, fail, slow, ...).
#ifndef ZEN_TESTING_RPC_FIXTURE_H_
#define ZEN_TESTING_RPC_FIXTURE_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "ipc/secret.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "testing/test_secret.h"
#include "tools/rpc_cli/builtin_handlers.h"

namespace zen::testing {

// rpc_cli's built-in methods (echo, add, fail, slow, ...) on `server`: the
// methods rpc's tests call. Through here, so that rpc/ itself never names a
// program above it.
inline void RegisterBuiltinHandlers(rpc::Server* server) {
  rpc_cli::RegisterBuiltinHandlers(server);
}

// A started server on an ephemeral loopback port, and channels to it.
struct Fixture {
  explicit Fixture(rpc::ServerOptions options = {}) : secret(TestSecret()) {
    auto created = rpc::Server::Create(&secret, options);
    EXPECT_TRUE(created.ok()) << created.status();
    server = std::move(*created);
    RegisterBuiltinHandlers(server.get());
    EXPECT_TRUE(server->Start().ok());
  }
  rpc::ChannelOptions Options() const {
    rpc::ChannelOptions options;
    options.connector.port = server->port();
    options.reconnect_policy.initial_delay = absl::Milliseconds(50);
    return options;
  }
  std::unique_ptr<rpc::Channel> Connect() {
    auto channel = rpc::Channel::Create(&secret, Options());
    EXPECT_TRUE(channel.ok()) << channel.status();
    return channel.ok() ? std::move(*channel) : nullptr;
  }
  ipc::Secret secret;
  std::unique_ptr<rpc::Server> server;
};

// A call's result JSON, or its status as text.
inline std::string Json(const absl::StatusOr<rpc::RawResult>& r) {
  return r.ok() ? std::string(r->json()) : r.status().ToString();
}

}  // namespace zen::testing

#endif  // ZEN_TESTING_RPC_FIXTURE_H_
