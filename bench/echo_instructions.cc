// Sequential echo calls through a generated Stub, rpc::Channel and
// rpc::Server over loopback TCP, all in one process, for counting
// instructions per call under valgrind (docs/benchmarks.md, "Instructions
// per echo call"):
//
//   valgrind --tool=callgrind bazel-bin/bench/echo_instructions N
//
// Run it for two N; the difference of the totals over the difference of N
// is the cost of one call, client and server, without setup and teardown.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "bench/echo_service.h"
#include "ipc/secret.h"
#include "rpc/channel.h"
#include "rpc/server.h"

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 1000;
  absl::StatusOr<zen::ipc::Secret> secret = zen::ipc::Secret::Generate();
  if (!secret.ok()) return 1;
  absl::StatusOr<std::unique_ptr<zen::rpc::Server>> server =
      zen::rpc::Server::Create(&*secret);
  if (!server.ok()) return 1;
  zen::bench::ZenEchoService service;
  service.RegisterOn(server->get());
  if (!(*server)->Start().ok()) return 1;
  zen::rpc::ChannelOptions options;
  options.connector.port = (*server)->port();
  options.default_timeout = absl::Seconds(60);  // Valgrind is slow.
  absl::StatusOr<std::unique_ptr<zen::rpc::Channel>> channel =
      zen::rpc::Channel::Create(&*secret, options);
  if (!channel.ok()) return 1;
  zen::bench::EchoService::Stub stub(channel->get());
  const zen::bench::EchoMessage request = zen::bench::PayloadMessage();
  int failed = 0;
  for (int i = 0; i < calls; ++i) failed += !stub.Echo(request).ok();
  (*channel)->Stop();
  (*server)->Stop();
  std::printf("calls %d failed %d\n", calls, failed);
  return failed == 0 ? 0 : 1;
}
