// Exec'ed by secret_hygiene_test from a forked child of a process holding
// the secret: tries to authenticate to the server at 127.0.0.1:<argv[1]>
// with what an exec'ed image can have (no inherited memory, so no key: it
// uses 32 zero bytes), prints "accepted" or "rejected", then waits for a
// byte on stdin so the test can inspect this process before it exits.
// Exit 0 when rejected, 3 when (wrongly) accepted, 2 on a usage error.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/time/clock.h"
#include "base/clock.h"
#include "ipc/connector.h"
#include "ipc/secret.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const uint8_t zeros[zen::ipc::Secret::kSize] = {};
  absl::StatusOr<zen::ipc::Secret> guess = zen::ipc::Secret::FromBytes(zeros);
  if (!guess.ok()) return 2;
  zen::ipc::ConnectorOptions options;
  options.port = static_cast<uint16_t>(std::atoi(argv[1]));
  auto stream =
      zen::ipc::Connect(*guess, options, zen::Now() + absl::Seconds(5));
  std::printf("%s\n", stream.ok() ? "accepted" : "rejected");
  std::fflush(stdout);
  char byte;
  (void)::read(0, &byte, 1);
  return stream.ok() ? 3 : 0;
}
