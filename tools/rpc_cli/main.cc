// rpc_cli: speak the protocol from a shell, in the spirit of grpcurl.
//
//   rpc_cli serve [--unix]
//   rpc_cli call PORT|unix:PATH METHOD [KWARGS_JSON] [--args ARGS_JSON]
//                [--timeout S]
//
// `serve` prints "PORT <n>" (TCP on 127.0.0.1), or with --unix "UNIX <path>"
// (a Unix-domain socket in a fresh 0700 directory, removed at exit).
//
// Both read the secret from the first line of standard input: exactly 64 hex
// characters, the 32 raw key bytes. It exists for tests and debugging (for
// example against another implementation of the protocol); real children
// get the secret by fork(), never from a file, argument or environment.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ipc/secret.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "tools/rpc_cli/builtin_handlers.h"
#include "tools/rpc_cli/stdin_secret.h"
#include "tools/rpc_cli/target.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: rpc_cli serve [--unix]\n"
               "       rpc_cli call PORT|unix:PATH METHOD [KWARGS_JSON] "
               "[--args ARGS_JSON] [--timeout SECONDS]\n"
               "The secret (64 hex characters) is read from the first line of "
               "standard input.\n");
  return 2;
}

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

int Serve(const zen::ipc::Secret& secret, bool unix_socket) {
  zen::rpc::ServerOptions options;
  if (unix_socket) options.listener.transport = zen::ipc::Transport::kUnix;
  auto server = zen::rpc::Server::Create(&secret, options);
  if (!server.ok()) {
    std::fprintf(stderr, "rpc_cli: %s\n", server.status().ToString().c_str());
    return 1;
  }
  zen::rpc_cli::RegisterBuiltinHandlers(server->get());
  if (auto s = (*server)->Start(); !s.ok()) {
    std::fprintf(stderr, "rpc_cli: %s\n", s.ToString().c_str());
    return 1;
  }
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  const std::string address = zen::rpc_cli::AddressLine(
      options.listener.transport, (*server)->port(), (*server)->unix_path());
  std::printf("%s\n", address.c_str());
  std::fflush(stdout);
  // Serve until stdin reaches end of file or a signal arrives.
  char buf[256];
  while (!g_stop) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0 && errno != EINTR) break;
  }
  (*server)->Stop();
  return 0;
}

int Call(const zen::ipc::Secret& secret, int argc, char** argv) {
  if (argc < 4) return Usage();
  zen::rpc::ChannelOptions options;
  if (absl::Status s = zen::rpc_cli::ParseTarget(argv[2], &options.connector);
      !s.ok()) {
    std::fprintf(stderr, "rpc_cli: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  const std::string method = argv[3];
  std::string kwargs = "{}";
  std::string args = "[]";
  double timeout = 5.0;
  for (int i = 4; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--args" && i + 1 < argc) {
      args = argv[++i];
    } else if (arg == "--timeout" && i + 1 < argc) {
      if (!absl::SimpleAtod(argv[++i], &timeout) || timeout <= 0)
        return Usage();
    } else if (i == 4 && arg.rfind("--", 0) != 0) {
      kwargs = arg;
    } else {
      return Usage();
    }
  }
  options.reconnect = false;
  auto channel = zen::rpc::Channel::Create(&secret, options);
  if (!channel.ok()) {
    std::fprintf(stderr, "rpc_cli: %s\n", channel.status().ToString().c_str());
    return 1;
  }
  // The JSON texts go on the wire as given; a malformed one makes the
  // server drop the connection, which shows as UNAVAILABLE.
  auto result = (*channel)->Call(
      method, args, kwargs,
      zen::rpc::CallOptions::WithTimeout(absl::Seconds(timeout)));
  if (!result.ok()) {
    std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
    return 1;
  }
  std::fwrite(result->json().data(), 1, result->json().size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string command = argv[1];
  if (command != "serve" && command != "call") return Usage();
  bool unix_socket = false;
  if (command == "serve") {
    for (int i = 2; i < argc; ++i) {
      if (std::string(argv[i]) != "--unix") return Usage();
      unix_socket = true;
    }
  }
  auto secret = zen::rpc_cli::ReadSecretFromStdin();
  if (!secret.ok()) {
    std::fprintf(stderr, "rpc_cli: %s\n", secret.status().ToString().c_str());
    return 2;
  }
  return command == "serve" ? Serve(*secret, unix_socket)
                            : Call(*secret, argc, argv);
}
