#include "bench/raw_echo.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "bench/bench_util.h"

namespace zen::bench {
namespace {

// Where the id's text starts in a request or response body: after `["`.
constexpr size_t kIdOffset = 2;
// RawCallId's width, and where its 6-digit slot starts.
constexpr size_t kIdSize = 23;
constexpr size_t kSlotOffset = kIdOffset + 17;
constexpr size_t kSlotDigits = 6;

void SetNoDelay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

}  // namespace

bool RawFrameReader::Next(absl::string_view* body) {
  for (;;) {
    const size_t have = end_ - begin_;
    if (have >= 4) {
      const auto* p = reinterpret_cast<const uint8_t*>(buf_.data() + begin_);
      const size_t size = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) |
                          (size_t{p[2]} << 8) | size_t{p[3]};
      if (have - 4 >= size) {
        *body = absl::string_view(buf_.data() + begin_ + 4, size);
        begin_ += 4 + size;
        return true;
      }
      if (4 + size > buf_.size()) buf_.resize(4 + size);
    }
    if (begin_ == end_) {
      begin_ = end_ = 0;
    } else if (buf_.size() - end_ < 512 || begin_ > buf_.size() / 2) {
      std::memmove(buf_.data(), buf_.data() + begin_, have);
      begin_ = 0;
      end_ = have;
    }
    const ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    end_ += static_cast<size_t>(n);
  }
}

bool WriteFully(int fd, absl::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

int RawConnect(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  SetNoDelay(fd);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

uint16_t RawServer::ListenTcp() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) std::abort();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 512) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) !=
          0) {
    std::abort();
  }
  accept_thread_ = std::thread([this] {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;  // Stop() shut the socket down.
      }
      SetNoDelay(fd);
      Serve(fd);
    }
  });
  return ntohs(addr.sin_port);
}

void RawServer::Serve(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  threads_.emplace_back([fd] { ServeRawEcho(fd); });
}

void RawServer::Stop() {
  if (listen_fd_ >= 0) {
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (accept_thread_.joinable()) accept_thread_.join();
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

void ServeRawEcho(int fd) {
  std::string response = Framed(EchoResponseBody(RawCallId(0)));
  RawFrameReader reader(fd);
  absl::string_view request;
  while (reader.Next(&request)) {
    if (request.size() < kIdOffset + kIdSize) break;
    std::memcpy(&response[4 + kIdOffset], request.data() + kIdOffset, kIdSize);
    if (!WriteFully(fd, response)) break;
  }
  ::close(fd);
}

RawClient::RawClient(int fd)
    : fd_(fd), reader_(fd), request_(Framed(EchoRequestBody(RawCallId(0)))) {}

bool RawClient::Call() {
  if (!WriteFully(fd_, request_)) return false;
  absl::string_view body;
  return reader_.Next(&body);
}

RawMux::RawMux(int fd, int slots) : fd_(fd), slots_(slots) {
  for (int i = 0; i < slots; ++i) {
    slots_[i].request = Framed(EchoRequestBody(RawCallId(i)));
  }
  reader_ = std::thread([this] { ReadLoop(); });
}

RawMux::~RawMux() {
  ::shutdown(fd_, SHUT_RD);
  reader_.join();
}

bool RawMux::Call(int slot) {
  Slot& s = slots_[slot];
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.done = false;
  }
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (!WriteFully(fd_, s.request)) return false;
  }
  std::unique_lock<std::mutex> lock(s.mu);
  s.cv.wait(lock, [&] { return s.done; });
  return true;
}

void RawMux::ReadLoop() {
  RawFrameReader reader(fd_);
  absl::string_view body;
  while (reader.Next(&body)) {
    int slot = 0;
    if (body.size() < kSlotOffset + kSlotDigits ||
        !absl::SimpleAtoi(body.substr(kSlotOffset, kSlotDigits), &slot) ||
        slot < 0 || slot >= static_cast<int>(slots_.size())) {
      continue;
    }
    Slot& s = slots_[slot];
    {
      std::lock_guard<std::mutex> lock(s.mu);
      s.done = true;
    }
    s.cv.notify_one();
  }
  // The connection ended: release every waiter (their calls count as done;
  // the benchmark only ends connections after its last call).
  for (Slot& s : slots_) {
    {
      std::lock_guard<std::mutex> lock(s.mu);
      s.done = true;
    }
    s.cv.notify_one();
  }
}

}  // namespace zen::bench
