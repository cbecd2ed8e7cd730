// Connect + authenticate from a fork()ed child, `--connects` times in a row;
// prints the median and p99 as one JSON line:
//
//   handshake_compare --system=zen|zen_channel|raw_hmac|sock_diag
//                     [--connects=2000] [--uid_check=1]
//
// --uid_check=0 turns off the listener's peer-uid check
// (ListenerOptions::refuse_other_uid), so one binary shows what the check
// costs per accept. sock_diag: the check alone, TcpPeerUidQuery::PeerUid on
// `--connects` fresh accepted loopback connections, in one process.
//
// zen: ipc::Connect against an rpc::Server (TCP connect, the mutual
// HMAC-SHA256 handshake, the server's check of the client). zen_channel:
// rpc::Channel::Create plus the first echo call through a generated Stub,
// the figure to set beside gRPC's "channel + first call". raw_hmac: the
// limit, the same three handshake messages over blocking sockets with
// OpenSSL's HMAC, served inline by one accept thread.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "bench/echo_service.h"
#include "bench/raw_echo.h"
#include "ipc/connector.h"
#include "ipc/peer_credentials.h"
#include "ipc/secret.h"
#include "ipc/socket_io.h"
#include "rpc/channel.h"
#include "rpc/server.h"

namespace zen::bench {
namespace {

constexpr size_t kChallenge = 32;
constexpr size_t kMac = 32;

struct Figures {
  double p50_us = 0;
  double p99_us = 0;
  int64_t errors = 0;
};

void Proof(const ipc::Secret& secret, const char* label,
           const uint8_t* challenge, uint8_t out[kMac]) {
  uint8_t message[16 + kChallenge];
  const size_t label_len = std::strlen(label);
  std::memcpy(message, label, label_len);
  std::memcpy(message + label_len, challenge, kChallenge);
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.key().data(), static_cast<int>(secret.key().size()),
       message, label_len + kChallenge, out, &len);
}

bool ReadFully(int fd, uint8_t* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::read(fd, out + done, n - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

bool WriteBytes(int fd, const uint8_t* data, size_t n) {
  return WriteFully(fd,
                    absl::string_view(reinterpret_cast<const char*>(data), n));
}

// The raw server's side of one handshake.
bool RawServerHandshake(int fd, const ipc::Secret& secret) {
  uint8_t challenge[kChallenge];
  if (RAND_bytes(challenge, kChallenge) != 1) return false;
  if (!WriteBytes(fd, challenge, kChallenge)) return false;
  uint8_t reply[kMac + kChallenge];
  if (!ReadFully(fd, reply, sizeof(reply))) return false;
  uint8_t expected[kMac];
  Proof(secret, "CLIENT-AUTH", challenge, expected);
  if (CRYPTO_memcmp(expected, reply, kMac) != 0) return false;
  uint8_t proof[kMac];
  Proof(secret, "SERVER-AUTH", reply + kMac, proof);
  return WriteBytes(fd, proof, kMac);
}

bool RawClientHandshake(int fd, const ipc::Secret& secret) {
  uint8_t challenge[kChallenge];
  if (!ReadFully(fd, challenge, kChallenge)) return false;
  uint8_t reply[kMac + kChallenge];
  Proof(secret, "CLIENT-AUTH", challenge, reply);
  if (RAND_bytes(reply + kMac, kChallenge) != 1) return false;
  if (!WriteBytes(fd, reply, sizeof(reply))) return false;
  uint8_t proof[kMac];
  if (!ReadFully(fd, proof, kMac)) return false;
  uint8_t expected[kMac];
  Proof(secret, "SERVER-AUTH", reply + kMac, expected);
  return CRYPTO_memcmp(expected, proof, kMac) == 0;
}

int ListenLoopback(uint16_t* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(fd, 512) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::abort();
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

// Times `connect_once` `n` times in a forked child pinned to the client CPU,
// after `setup` (what a real child does first).
int TimeInChild(int n, const std::function<void()>& setup,
                const std::function<bool()>& connect_once, Figures* out) {
  const pid_t pid = ForkChild([&] {
    setup();
    PinToCpu(ClientCpu(Placement::kSplit));
    std::vector<double> us;
    us.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      const int64_t start = NowNs();
      if (!connect_once()) ++out->errors;
      us.push_back((NowNs() - start) * 1e-3);
    }
    out->p50_us = Percentile(us, 0.5);
    out->p99_us = Percentile(us, 0.99);
    return 0;
  });
  return Reap(pid) ? 0 : 1;
}

int RunRaw(const ipc::Secret& secret, int n, Figures* out) {
  uint16_t port = 0;
  const int listen_fd = ListenLoopback(&port);
  std::thread server([&] {
    for (;;) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      RawServerHandshake(fd, secret);
      ::close(fd);
    }
  });
  const int rc = TimeInChild(
      n, [] {},
      [&] {
        const int fd = RawConnect(port);
        if (fd < 0) return false;
        const bool ok = RawClientHandshake(fd, secret);
        ::close(fd);
        return ok;
      },
      out);
  ::shutdown(listen_fd, SHUT_RDWR);
  server.join();
  ::close(listen_fd);
  return rc;
}

int RunSockDiag(int n, Figures* out) {
  absl::StatusOr<ipc::UniqueFd> listen = ipc::ListenTcp("127.0.0.1", 0, 8);
  if (!listen.ok()) return 1;
  absl::StatusOr<uint16_t> port = ipc::LocalPort(listen->get());
  if (!port.ok()) return 1;
  ipc::TcpPeerUidQuery query;
  std::vector<double> us;
  us.reserve(n);
  for (int i = 0; i < n; ++i) {
    // A fresh connection each time, as the listener sees them.
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    absl::StatusOr<ipc::UniqueFd> client =
        ipc::ConnectTcp("127.0.0.1", *port, deadline);
    absl::StatusOr<ipc::UniqueFd> accepted =
        ipc::Accept(listen->get(), deadline);
    if (!client.ok() || !accepted.ok()) return 1;
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<uid_t> uid = query.PeerUid(accepted->get());
    const auto end = std::chrono::steady_clock::now();
    if (!uid.ok()) ++out->errors;
    us.push_back(
        std::chrono::duration<double, std::micro>(end - start).count());
  }
  std::sort(us.begin(), us.end());
  out->p50_us = us[us.size() / 2];
  out->p99_us = us[us.size() * 99 / 100];
  return 0;
}

int RunZen(const ipc::Secret& secret, bool channel, bool uid_check, int n,
           Figures* out) {
  rpc::ServerOptions server_options;
  server_options.listener.refuse_other_uid = uid_check;
  absl::StatusOr<std::unique_ptr<rpc::Server>> server =
      rpc::Server::Create(&secret, server_options);
  if (!server.ok()) return 1;
  ZenEchoService service;
  service.RegisterOn(server->get());
  if (!(*server)->Start().ok()) return 1;
  const uint16_t port = (*server)->port();
  const EchoMessage request = PayloadMessage();
  std::function<bool()> once;
  if (channel) {
    once = [&] {
      rpc::ChannelOptions options;
      options.connector.port = port;
      absl::StatusOr<std::unique_ptr<rpc::Channel>> ch =
          rpc::Channel::Create(&secret, options);
      if (!ch.ok()) return false;
      EchoService::Stub stub(ch->get());
      return stub.Echo(request).ok();
      // The channel's Stop() (joining its threads) runs here, timed too: a
      // gRPC channel is torn down inside its figure as well.
    };
  } else {
    once = [&] {
      ipc::ConnectorOptions options;
      options.port = port;
      return ipc::Connect(secret, options).ok();
    };
  }
  const int rc = TimeInChild(
      n, [&] { server->release()->AbandonAfterFork(); }, once, out);
  (*server)->Stop();
  return rc;
}

int Main(int argc, char** argv) {
  const Flags flags(argc, argv);
  const std::string system = flags.GetString("system", "zen");
  const int n = static_cast<int>(flags.GetInt("connects", 2000));
  const bool uid_check = flags.GetInt("uid_check", 1) != 0;
  PinToCpu(kServerCpu);
  absl::StatusOr<ipc::Secret> secret = ipc::Secret::Generate();
  if (!secret.ok()) return 1;
  SharedArray<Figures> out(1);
  int rc;
  if (system == "raw_hmac") {
    rc = RunRaw(*secret, n, &out[0]);
  } else if (system == "zen" || system == "zen_channel") {
    rc = RunZen(*secret, system == "zen_channel", uid_check, n, &out[0]);
  } else if (system == "sock_diag") {
    rc = RunSockDiag(n, &out[0]);
  } else {
    std::fprintf(stderr, "unknown --system=%s\n", system.c_str());
    return 2;
  }
  if (rc != 0) return rc;
  JsonLine("handshake")
      .Add("system", system)
      .Add("connects", n)
      .Add("uid_check", uid_check ? 1 : 0)
      .Add("p50_us", out[0].p50_us)
      .Add("p99_us", out[0].p99_us)
      .Add("errors", out[0].errors)
      .Print();
  return 0;
}

}  // namespace
}  // namespace zen::bench

int main(int argc, char** argv) { return zen::bench::Main(argc, argv); }
