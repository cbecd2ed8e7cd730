#include "tests/hostile/live_server.h"

#include <dirent.h>

#include <cstdio>
#include <fstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/clock.h"
#include "ipc/handshake.h"
#include "ipc/socket_io.h"
#include "rpc/channel.h"
#include "testing/sanitizers.h"
#include "testing/test_secret.h"
#include "tools/rpc_cli/builtin_handlers.h"

namespace zen::hostile {
namespace {

size_t StatusField(absl::string_view name) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!absl::StartsWith(line, name)) continue;
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    size_t value = 0;
    if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &value)) return value;
  }
  return 0;
}

}  // namespace

absl::Duration PromptBound() {
  return testing::UnderSanitizer() ? absl::Seconds(2) : absl::Seconds(1);
}

rpc::ServerOptions HostileServerOptions() {
  rpc::ServerOptions options;
  options.listener.handshake_timeout = absl::Seconds(1);
  options.listener.stream.write_timeout = absl::Seconds(2);
  return options;
}

size_t DescriptorCount() {
  size_t count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count - 1;  // The directory's own descriptor.
}

size_t ThreadCount() { return StatusField("Threads:"); }

size_t ResidentBytes() { return StatusField("VmRSS:") * 1024; }

LiveServer::LiveServer(rpc::ServerOptions options)
    : secret_(testing::TestSecret()), options_(std::move(options)) {
  absl::StatusOr<std::unique_ptr<rpc::Server>> server =
      rpc::Server::Create(&secret_, options_);
  if (!server.ok()) {
    std::fprintf(stderr, "LiveServer: %s\n",
                 server.status().ToString().c_str());
    std::abort();
  }
  server_ = std::move(*server);
  rpc_cli::RegisterBuiltinHandlers(server_.get());
  if (!server_->Start().ok()) std::abort();
  // One honest client first, so lazily made state (thread-local parsers,
  // OpenSSL's tables) is in the baseline; then wait until the server has
  // closed its end of that connection (which happens a moment after the
  // connection stops being counted).
  const size_t before = DescriptorCount();
  (void)HonestCallIsPrompt();
  const absl::Time until = zen::Now() + absl::Seconds(2);
  while ((server_->stats().connections > 0 || DescriptorCount() > before) &&
         zen::Now() < until) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  baseline_ = DescriptorCount();
}

LiveServer::~LiveServer() { server_->Stop(); }

ipc::ConnectorOptions LiveServer::Target() const {
  ipc::ConnectorOptions target;
  target.transport = options_.listener.transport;
  target.port = server_->port();
  target.unix_path = server_->unix_path();
  return target;
}

absl::Status LiveServer::HonestCallIsPrompt() {
  const absl::Time start = zen::Now();
  rpc::ChannelOptions options;
  options.connector = Target();
  options.reconnect = false;
  absl::StatusOr<std::unique_ptr<rpc::Channel>> channel =
      rpc::Channel::Create(&secret_, options);
  if (!channel.ok()) {
    return absl::Status(channel.status().code(),
                        absl::StrCat("honest client could not connect: ",
                                     channel.status().message()));
  }
  absl::StatusOr<rpc::RawResult> result =
      (*channel)->Call("echo", R"(["still here"])", "{}",
                       rpc::CallOptions::WithDeadline(start + PromptBound()));
  (*channel)->Stop();
  if (!result.ok()) {
    return absl::Status(
        result.status().code(),
        absl::StrCat("honest call failed: ", result.status().message()));
  }
  if (result->json() != R"("still here")") {
    return absl::InternalError(
        absl::StrCat("honest call answered ", std::string(result->json())));
  }
  const absl::Duration took = zen::Now() - start;
  if (took > PromptBound()) {
    return absl::DeadlineExceededError(
        absl::StrCat("honest call took ", absl::FormatDuration(took)));
  }
  return absl::OkStatus();
}

absl::Status LiveServer::DescriptorsBackToBaseline(absl::Duration patience) {
  const absl::Time until = zen::Now() + patience;
  size_t now = DescriptorCount();
  while (now != baseline_ && zen::Now() < until) {
    absl::SleepFor(absl::Milliseconds(10));
    now = DescriptorCount();
  }
  if (now == baseline_) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("descriptors: ", now, " open, baseline ", baseline_));
}

absl::StatusOr<ipc::UniqueFd> RawConnect(uint16_t port) {
  return ipc::ConnectTcp(ipc::kLoopbackHost, port,
                         zen::Now() + absl::Seconds(5));
}

absl::StatusOr<ipc::UniqueFd> AuthenticatedConnect(uint16_t port,
                                                   const ipc::Secret& secret) {
  absl::StatusOr<ipc::UniqueFd> fd = RawConnect(port);
  if (!fd.ok()) return fd.status();
  absl::Status status =
      ipc::ClientHandshake(fd->get(), secret, zen::Now() + absl::Seconds(5));
  if (!status.ok()) return status;
  return fd;
}

absl::Status SendBytes(int fd, absl::string_view bytes) {
  return ipc::WriteAll(fd, bytes, zen::Now() + absl::Seconds(10));
}

std::string FrameHeader(uint32_t length) {
  return std::string{static_cast<char>(length >> 24),
                     static_cast<char>(length >> 16),
                     static_cast<char>(length >> 8), static_cast<char>(length)};
}

std::string Frame(absl::string_view body) {
  return absl::StrCat(FrameHeader(static_cast<uint32_t>(body.size())), body);
}

absl::StatusOr<std::string> ReadFrame(int fd, absl::Time deadline) {
  uint8_t header[4];
  absl::Status status = ipc::ReadExactly(fd, header, deadline);
  if (!status.ok()) return status;
  const uint32_t size = (uint32_t{header[0]} << 24) |
                        (uint32_t{header[1]} << 16) |
                        (uint32_t{header[2]} << 8) | uint32_t{header[3]};
  std::string body(size, '\0');
  status = ipc::ReadExactly(
      fd, absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(body.data()), size),
      deadline);
  if (!status.ok()) return status;
  return body;
}

absl::StatusOr<size_t> DrainUntilClosed(int fd, absl::Time deadline) {
  size_t total = 0;
  uint8_t buffer[64 * 1024];
  for (;;) {
    absl::StatusOr<size_t> n = ipc::ReadSome(fd, buffer, deadline);
    if (n.ok()) {
      total += *n;
      continue;
    }
    if (absl::IsUnavailable(n.status())) return total;  // EOF or reset.
    return n.status();
  }
}

absl::StatusOr<std::string> ReadChallenge(int fd, absl::Time deadline) {
  std::string challenge(ipc::kChallengeSize, '\0');
  absl::Status status = ipc::ReadExactly(
      fd,
      absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(challenge.data()),
                          challenge.size()),
      deadline);
  if (!status.ok()) return status;
  return challenge;
}

std::string Proof(const ipc::Secret& secret, const char* label,
                  absl::string_view challenge) {
  uint8_t out[ipc::kHmacSize];
  // A challenge of another size, or a failed HMAC, leaves a proof of zeros:
  // a wrong proof, which is what the peer then gets.
  (void)ipc::ComputeProof(
      secret, label,
      absl::Span<const uint8_t>(
          reinterpret_cast<const uint8_t*>(challenge.data()), challenge.size()),
      out);
  return std::string(reinterpret_cast<char*>(out), sizeof(out));
}

}  // namespace zen::hostile
