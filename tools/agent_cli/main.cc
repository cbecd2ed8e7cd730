// agent_cli: the worker agent from a shell, in the spirit of grpcurl.
//
//   agent_cli serve [--config=FILE] [--firewall-lists=FILE] [--unix]
//   agent_cli call PORT|unix:PATH METHOD [ARGS_JSON] [--timeout=SECONDS]
//   agent_cli describe
//
// `serve` runs the real zen::AgentServer; `call` makes one call through the
// generated WorkerAgent::Stub, so the bytes on the wire are a C++ worker's;
// `describe` prints the service from the compiled descriptors. `serve` and
// `call` read the secret from the first line of standard input (64 hex
// characters), for tests and debugging only: real children get it by fork().
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "agent/agent_server.h"
#include "agent/model/heartbeat.h"
#include "ipc/secret.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/call_options.h"
#include "rpc/channel.h"
#include "tools/agent_cli/agent_methods.h"
#include "tools/agent_cli/describe.h"
#include "tools/rpc_cli/stdin_secret.h"
#include "tools/rpc_cli/target.h"

namespace {

int Usage() {
  std::fprintf(
      stderr,
      "usage: agent_cli serve [--config=FILE] [--firewall-lists=FILE] "
      "[--unix]\n"
      "       agent_cli call PORT|unix:PATH METHOD [ARGS_JSON] "
      "[--timeout=SECONDS]\n"
      "       agent_cli describe\n"
      "serve and call read the secret (64 hex characters) from the first "
      "line of standard input.\n"
      "ARGS_JSON is a JSON array of positional arguments as the reference "
      "Ruby client sends them\n"
      "(or an object of the request's fields); `describe` lists them.\n");
  return 2;
}

// The value of `--name=VALUE` or `--name VALUE` at argv[*i] (advancing *i
// past a separate value), or nullopt if argv[*i] is not that flag.
std::optional<std::string> FlagValue(int argc, char** argv, int* i,
                                     const char* name) {
  const std::string arg = argv[*i];
  const std::string flag = absl::StrCat("--", name);
  if (absl::StartsWith(arg, flag + "=")) return arg.substr(flag.size() + 1);
  if (arg == flag && *i + 1 < argc) return std::string(argv[++*i]);
  return std::nullopt;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read it: ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError("error while reading it");
  return text.str();
}

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

// Blocks SIGTERM and SIGINT in this thread (and so in the threads it starts
// later) and installs their handler; *previous gets the mask to wait with.
// Blocked until WaitForStdinEndOrSignal, a signal that arrives early is
// kept pending instead of killing the process or being missed.
void CatchStopSignals(sigset_t* previous) {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, previous);
}

// Blocks until stdin reaches end of file (or fails) or SIGTERM / SIGINT
// arrives. ppoll unblocks the signals only while it waits, so one cannot
// slip in between the check of g_stop and the wait.
void WaitForStdinEndOrSignal(const sigset_t& wait_mask) {
  char buf[256];
  while (!g_stop) {
    pollfd fd = {STDIN_FILENO, POLLIN, 0};
    if (::ppoll(&fd, 1, nullptr, &wait_mask) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0 && errno != EINTR && errno != EAGAIN) break;
  }
}

// Stops serving and reports the server's final state. After Stop() every
// call has finished, so every event a worker sent is folded into
// server->collector(): what reports statistics at exit goes here.
int Shutdown(zen::AgentServer* server) {
  server->Stop();
  // Stopped: every acknowledged batch has been folded. The heartbeat the
  // reference's parent would send its API for this run.
  absl::StatusOr<std::string> heartbeat =
      zen::HeartbeatJson(server->collector().Flush());
  if (!heartbeat.ok()) {
    std::fprintf(stderr, "agent_cli: heartbeat: %s\n",
                 heartbeat.status().ToString().c_str());
    return 1;
  }
  std::printf("STATS %s\n", heartbeat->c_str());
  std::fflush(stdout);
  return 0;
}

int Serve(int argc, char** argv) {
  std::optional<std::string> config_path;
  std::optional<std::string> firewall_lists_path;
  zen::AgentServerOptions options;
  for (int i = 2; i < argc; ++i) {
    if (std::string(argv[i]) == "--unix") {
      options.server.listener.transport = zen::ipc::Transport::kUnix;
    } else if (auto v = FlagValue(argc, argv, &i, "config")) {
      config_path = std::move(v);
    } else if (auto v = FlagValue(argc, argv, &i, "firewall-lists")) {
      firewall_lists_path = std::move(v);
    } else {
      return Usage();
    }
  }
  absl::StatusOr<zen::ipc::Secret> secret = zen::rpc_cli::ReadSecretFromStdin();
  if (!secret.ok()) {
    std::fprintf(stderr, "agent_cli: %s\n", secret.status().ToString().c_str());
    return 2;
  }
  // Before the server starts its threads, so they inherit the mask.
  sigset_t wait_mask;
  CatchStopSignals(&wait_mask);
  auto server = zen::AgentServer::Create(&*secret, options);
  if (!server.ok()) {
    std::fprintf(stderr, "agent_cli: %s\n", server.status().ToString().c_str());
    return 1;
  }
  struct Document {
    const char* flag;
    const std::optional<std::string>& path;
    absl::Status (zen::AgentServer::*update)(std::string);
  };
  const Document documents[] = {
      {"--config", config_path, &zen::AgentServer::UpdateConfig},
      {"--firewall-lists", firewall_lists_path,
       &zen::AgentServer::UpdateFirewallLists},
  };
  for (const Document& document : documents) {
    if (!document.path.has_value()) continue;
    absl::StatusOr<std::string> text = ReadFile(*document.path);
    absl::Status status = text.status();
    if (status.ok()) status = ((**server).*document.update)(std::move(*text));
    if (!status.ok()) {
      std::fprintf(stderr, "agent_cli: %s=%s: %s\n", document.flag,
                   document.path->c_str(), status.ToString().c_str());
      return 1;
    }
  }
  if (absl::Status s = (*server)->Start(); !s.ok()) {
    std::fprintf(stderr, "agent_cli: %s\n", s.ToString().c_str());
    return 1;
  }
  const std::string address =
      zen::rpc_cli::AddressLine(options.server.listener.transport,
                                (*server)->port(), (*server)->unix_path());
  std::printf("%s\n", address.c_str());
  std::fflush(stdout);
  WaitForStdinEndOrSignal(wait_mask);
  return Shutdown(server->get());
}

// Prints `ERROR <CODE> <message>` on stdout, one line; returns the exit
// status.
int PrintError(const absl::Status& status) {
  std::string message(status.message());
  std::replace(message.begin(), message.end(), '\n', ' ');
  std::printf("ERROR %s %s\n", absl::StatusCodeToString(status.code()).c_str(),
              message.c_str());
  return 1;
}

int Call(int argc, char** argv) {
  std::string positional[3];
  int positional_count = 0;
  double timeout_seconds = absl::ToDoubleSeconds(zen::rpc::kDefaultCallTimeout);
  for (int i = 2; i < argc; ++i) {
    if (auto v = FlagValue(argc, argv, &i, "timeout")) {
      if (!absl::SimpleAtod(*v, &timeout_seconds) || !(timeout_seconds > 0)) {
        return Usage();
      }
    } else if (positional_count < 3 && !absl::StartsWith(argv[i], "--")) {
      positional[positional_count++] = argv[i];
    } else {
      return Usage();
    }
  }
  if (positional_count < 2) return Usage();
  zen::rpc::ChannelOptions options;
  if (absl::Status s =
          zen::rpc_cli::ParseTarget(positional[0], &options.connector);
      !s.ok()) {
    std::fprintf(stderr, "agent_cli: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  const std::string& method_name = positional[1];
  const std::string args_json = positional_count == 3 ? positional[2] : "[]";

  absl::StatusOr<zen::ipc::Secret> secret = zen::rpc_cli::ReadSecretFromStdin();
  if (!secret.ok()) return PrintError(secret.status());
  const zen::agent_cli::AgentMethod* method =
      zen::agent_cli::FindAgentMethod(method_name);
  if (method == nullptr) {
    std::string known;
    for (const auto& m : zen::agent_cli::AgentMethods()) {
      absl::StrAppend(&known, known.empty() ? "" : ", ", m.wire_name);
    }
    return PrintError(absl::UnimplementedError(absl::StrCat(
        "no method '", method_name, "' in WorkerAgent (it has ", known, ")")));
  }
  auto request = zen::agent_cli::DecodeJsonArgs(*method, args_json);
  if (!request.ok()) return PrintError(request.status());

  options.reconnect = false;
  auto channel = zen::rpc::Channel::Create(&*secret, options);
  if (!channel.ok()) return PrintError(channel.status());
  zen::agent::WorkerAgent::Stub stub(channel->get());
  absl::StatusOr<std::string> result = zen::agent_cli::CallForJson(
      *method, stub, **request,
      zen::rpc::CallOptions::WithTimeout(absl::Seconds(timeout_seconds)));
  if (!result.ok()) return PrintError(result.status());
  result->push_back('\n');
  std::fwrite(result->data(), 1, result->size(), stdout);
  return 0;
}

int Describe(int argc) {
  if (argc != 2) return Usage();
  const auto& methods = zen::agent_cli::AgentMethods();
  const std::string text = zen::agent_cli::DescribeFile(
      methods.front().descriptor->file(),
      [&methods](const google::protobuf::MethodDescriptor* descriptor) {
        for (const auto& method : methods) {
          if (method.descriptor == descriptor) return method.wire_name;
        }
        return absl::string_view();
      });
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string command = argv[1];
  if (command == "serve") return Serve(argc, argv);
  if (command == "call") return Call(argc, argv);
  if (command == "describe") return Describe(argc);
  return Usage();
}
