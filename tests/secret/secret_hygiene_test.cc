// Secret hygiene, process-wide and black-box: the secret never appears in a
// log line, an error message, /proc/<pid>/environ or cmdline; its page is
// excluded from core dumps in the parent and in forked children; no copy of
// it is left anywhere in memory by handshakes, and none at all once it is
// destroyed; and an exec'ed child has none of it and cannot authenticate.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "agent/agent_server.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mutex.h"
#include "gtest/gtest.h"
#include "ipc/connector.h"
#include "ipc/handshake.h"
#include "ipc/secret.h"
#include "ipc/socket_io.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "testing/deadline.h"
#include "testing/forked_child.h"
#include "testing/sanitizers.h"
#include "tests/secret/memory_scan.h"
#include "tools/rpc_cli/builtin_handlers.h"

namespace zen::secret_hygiene {
namespace {

using ::zen::testing::In;

// Every log line the library writes while alive.
class CapturedLog {
 public:
  CapturedLog() {
    previous_ = SetLogSink([this](LogLevel, absl::string_view line) {
      MutexLock lock(&mu_);
      lines_.emplace_back(line);
    });
  }
  ~CapturedLog() { SetLogSink(std::move(previous_)); }
  std::vector<std::string> lines() {
    MutexLock lock(&mu_);
    return lines_;
  }

 private:
  Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
  LogSink previous_;
};

// The VmFlags of the mapping holding `p` in process `pid` (0: this one).
std::string VmFlags(pid_t pid, const void* p) {
  std::ifstream smaps(pid == 0 ? std::string("/proc/self/smaps")
                               : absl::StrCat("/proc/", pid, "/smaps"));
  std::string line;
  bool inside = false;
  const auto addr = reinterpret_cast<uintptr_t>(p);
  while (std::getline(smaps, line)) {
    unsigned long lo, hi;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 &&
        line.find(':') > line.find(' ')) {
      inside = addr >= lo && addr < hi;
      continue;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0) return line;
  }
  return "";
}

// The first block-half of an HMAC pad: each key byte XOR `pad` (the rest of
// the 64-byte block is `pad` itself, which says nothing). Only passed to
// InvertedKey, which keeps it inverted; this copy is wiped.
class Padded {
 public:
  Padded(absl::Span<const uint8_t> key, uint8_t pad) {
    for (size_t i = 0; i < key.size(); ++i)
      bytes_[i] = static_cast<uint8_t>(key[i] ^ pad);
  }
  ~Padded() {
    volatile uint8_t* p = bytes_;
    for (size_t i = 0; i < sizeof(bytes_); ++i) p[i] = 0;
  }
  operator absl::Span<const uint8_t>() const { return bytes_; }

 private:
  uint8_t bytes_[ipc::Secret::kSize];
};

// Exercises every path that can log or fail with the secret in hand:
// honest calls, failing handlers, wrong secrets both ways, timeouts, and
// the agent server. Returns every error message seen.
std::vector<std::string> ExerciseEverything(const ipc::Secret& secret) {
  std::vector<std::string> errors;
  auto note = [&errors](const absl::Status& s) {
    if (!s.ok()) errors.push_back(s.ToString());
  };
  rpc::ServerOptions options;
  options.listener.handshake_timeout = absl::Milliseconds(300);
  auto server = rpc::Server::Create(&secret, options);
  if (!server.ok()) return {server.status().ToString()};
  rpc_cli::RegisterBuiltinHandlers(server->get());
  note((*server)->Start());
  rpc::ChannelOptions channel_options;
  channel_options.connector.port = (*server)->port();
  auto channel = rpc::Channel::Create(&secret, channel_options);
  note(channel.status());
  if (channel.ok()) {
    note((*channel)->Call("echo", "[1]", "{}").status());
    note((*channel)->Call("fail", "[]", "{}").status());
    note((*channel)->Call("nope", "[]", "{}").status());
    note((*channel)
             ->Call("slow", "[1]", "{}",
                    rpc::CallOptions::WithTimeout(absl::Milliseconds(50)))
             .status());
  }
  // A client with the wrong secret, and a client that stays silent.
  const uint8_t zeros[ipc::Secret::kSize] = {};
  auto wrong = ipc::Secret::FromBytes(zeros);
  ipc::ConnectorOptions connector;
  connector.port = (*server)->port();
  note(ipc::Connect(*wrong, connector).status());
  auto silent = ipc::ConnectTcp(ipc::kLoopbackHost, (*server)->port(),
                                In(absl::Seconds(2)));
  absl::SleepFor(absl::Milliseconds(400));
  // Our client against a server that does not know the secret.
  auto impostor = rpc::Server::Create(&*wrong);
  if (impostor.ok()) {
    note((*impostor)->Start());
    ipc::ConnectorOptions to_impostor;
    to_impostor.port = (*impostor)->port();
    note(ipc::Connect(secret, to_impostor).status());
    (*impostor)->Stop();
  }
  // The agent server with the same secret.
  auto agent = AgentServer::Create(&secret);
  if (agent.ok()) {
    note((*agent)->Start());
    note((*agent)->UpdateConfig("{not json"));
    rpc::ChannelOptions to_agent;
    to_agent.connector.port = (*agent)->port();
    auto agent_channel = rpc::Channel::Create(&secret, to_agent);
    if (agent_channel.ok()) {
      agent::WorkerAgent::Stub stub(agent_channel->get());
      note(stub.UpdatedSettings(agent::UpdatedSettingsRequest()).status());
      note((*agent_channel)
               ->Call("send_collector_events", "[]", R"({"events":"x"})")
               .status());
      (*agent_channel)->Stop();
    }
    (*agent)->Stop();
  }
  if (channel.ok()) (*channel)->Stop();
  (*server)->Stop();
  note(ipc::Secret::FromBytes(absl::Span<const uint8_t>(zeros, 3)).status());
  return errors;
}

TEST(SecretHygieneTest, NeverInALogLineOrAnErrorMessage) {
  CapturedLog log;
  auto secret = ipc::Secret::Generate();
  ASSERT_TRUE(secret.ok());
  const InvertedKey key(secret->key());
  const std::vector<std::string> errors = ExerciseEverything(*secret);
  const std::vector<std::string> lines = log.lines();
  EXPECT_GE(errors.size(), 6u) << "the failure paths did not run";
  EXPECT_GE(lines.size(), 3u) << "nothing was logged";
  for (const std::string& e : errors) EXPECT_FALSE(key.FoundIn(e)) << e;
  for (const std::string& l : lines) EXPECT_FALSE(key.FoundIn(l)) << l;
}

TEST(SecretHygieneTest, NeverInEnvironOrCmdlineOfParentOrChild) {
  auto secret = ipc::Secret::Generate();
  ASSERT_TRUE(secret.ok());
  const InvertedKey key(secret->key());
  auto server = AgentServer::Create(&*secret);
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE((*server)->Start().ok());
  for (const char* file : {"environ", "cmdline"}) {
    EXPECT_FALSE(key.FoundIn(ReadProcFile(0, file))) << file;
  }
  // A forked child that connected with it.
  int ready[2], done[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(done, O_CLOEXEC), 0);
  auto child = testing::ForkedChild::Start([&]() -> absl::Status {
    ipc::ConnectorOptions options;
    options.port = (*server)->port();
    auto stream = ipc::Connect(*secret, options);
    if (!stream.ok()) return stream.status();
    char byte = 'r';
    if (::write(ready[1], &byte, 1) != 1) return absl::InternalError("pipe");
    if (::read(done[0], &byte, 1) < 0) return absl::InternalError("pipe");
    return absl::OkStatus();
  });
  ASSERT_TRUE(child.ok());
  char byte;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  for (const char* file : {"environ", "cmdline"}) {
    EXPECT_FALSE(key.FoundIn(ReadProcFile(child->pid(), file))) << file;
  }
  // Its copy of the page is excluded from core dumps too.
  EXPECT_NE(VmFlags(child->pid(), secret->key().data()).find(" dd"),
            std::string::npos);
  ASSERT_EQ(::write(done[1], &byte, 1), 1);
  EXPECT_TRUE(child->Wait(In(absl::Seconds(10))).ok());
  for (int fd : {ready[0], ready[1], done[0], done[1]}) ::close(fd);
  (*server)->Stop();
}

TEST(SecretHygieneTest, OnlyItsOwnDontDumpPageHoldsItAndDestroyingWipesIt) {
  // Sanitizer runtimes map terabytes of shadow memory and keep freed blocks
  // in quarantine; the scan is meaningful on the plain build.
  if (testing::UnderSanitizer())
    GTEST_SKIP() << "memory scan: plain build only";
  CapturedLog quiet;
  const uint8_t* page;
  std::unique_ptr<InvertedKey> key;
  // HMAC's inner and outer pad blocks (key XOR 0x36, key XOR 0x5c) give the
  // key away as surely as the key: neither may be left anywhere, not even
  // in the secret's page.
  std::unique_ptr<InvertedKey> ipad, opad;
  {
    auto secret = ipc::Secret::Generate();
    ASSERT_TRUE(secret.ok());
    page = secret->key().data();
    key = std::make_unique<InvertedKey>(secret->key());
    ipad = std::make_unique<InvertedKey>(Padded(secret->key(), 0x36));
    opad = std::make_unique<InvertedKey>(Padded(secret->key(), 0x5c));
    EXPECT_NE(VmFlags(0, page).find(" dd"), std::string::npos);
    // Handshakes, HMACs and calls leave no copy behind (OpenSSL's and ours
    // are wiped), so a core dump, which leaves out the page, has none.
    (void)ExerciseEverything(*secret);
    auto found = FindKeyInMemory(0, *key, {page});
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_TRUE(found->empty()) << absl::StrJoin(*found, "\n");
    {
      // The pad scan works: a pad block left on the heap is found.
      auto left = std::make_unique<Padded>(secret->key(), 0x36);
      auto pads = FindKeyInMemory(0, *ipad, {});
      ASSERT_TRUE(pads.ok()) << pads.status();
      EXPECT_EQ(pads->size(), 1u) << absl::StrJoin(*pads, "\n");
    }
    for (const InvertedKey* pad : {ipad.get(), opad.get()}) {
      auto pads = FindKeyInMemory(0, *pad, {});
      ASSERT_TRUE(pads.ok()) << pads.status();
      EXPECT_TRUE(pads->empty())
          << (pad == ipad.get() ? "ipad" : "opad") << " left in:\n"
          << absl::StrJoin(*pads, "\n");
    }
    // The page itself does hold it (the scan works).
    auto in_page = FindKeyInMemory(0, *key, {});
    ASSERT_TRUE(in_page.ok());
    EXPECT_EQ(in_page->size(), 1u) << absl::StrJoin(*in_page, "\n");
  }
  // Destroyed: wiped and unmapped, and no copy anywhere, nor of a pad.
  auto found = FindKeyInMemory(0, *key, {});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(found->empty()) << absl::StrJoin(*found, "\n");
  for (const InvertedKey* pad : {ipad.get(), opad.get()}) {
    auto pads = FindKeyInMemory(0, *pad, {});
    ASSERT_TRUE(pads.ok()) << pads.status();
    EXPECT_TRUE(pads->empty()) << absl::StrJoin(*pads, "\n");
  }
  EXPECT_EQ(VmFlags(0, page), "");  // Not mapped any more.
}

TEST(SecretHygieneTest, ExecedChildHasNoSecretAndCannotAuthenticate) {
  auto secret = ipc::Secret::Generate();
  ASSERT_TRUE(secret.ok());
  const InvertedKey key(secret->key());
  auto server = AgentServer::Create(&*secret);
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE((*server)->Start().ok());
  const std::string port = absl::StrCat((*server)->port());
  int in[2], out[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // A forked child holds the secret page... and exec drops it.
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    const char* probe = "tests/secret/exec_probe";
    ::execl(probe, probe, port.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  char answer[16] = {};
  size_t got = 0;
  while (got < sizeof(answer) - 1) {
    const ssize_t n = ::read(out[0], answer + got, sizeof(answer) - 1 - got);
    if (n <= 0 || answer[got + n - 1] == '\n') {
      got += n > 0 ? static_cast<size_t>(n) : 0;
      break;
    }
    got += static_cast<size_t>(n);
  }
  EXPECT_EQ(std::string(answer, got), "rejected\n");
  // Nothing of the key in the new image: memory, environment, arguments.
  if (!testing::UnderSanitizer()) {
    auto found = FindKeyInMemory(pid, key, {});
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_TRUE(found->empty()) << absl::StrJoin(*found, "\n");
  }
  for (const char* file : {"environ", "cmdline"}) {
    EXPECT_FALSE(key.FoundIn(ReadProcFile(pid, file))) << file;
  }
  ASSERT_EQ(::write(in[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ::close(in[1]);
  ::close(out[0]);
  (*server)->Stop();
}

}  // namespace
}  // namespace zen::secret_hygiene
