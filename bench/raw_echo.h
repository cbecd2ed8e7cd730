// The limit: the library's echo bytes moved with nothing but blocking
// sockets, framing and a memcpy of the id. No JSON, no deadlines, no poll.
//
// The raw server answers each request frame with the library's response
// frame for the same id (bench_util.h's EchoResponseBody), so both
// directions carry exactly the bytes the library carries.
#ifndef ZEN_BENCH_RAW_ECHO_H_
#define ZEN_BENCH_RAW_ECHO_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/string_view.h"

namespace zen::bench {

// Reassembles frames from a blocking socket, many per read when they are
// there. Not thread-safe.
class RawFrameReader {
 public:
  explicit RawFrameReader(int fd) : fd_(fd), buf_(16 * 1024) {}
  // The next frame body, valid until the next call; false on EOF or error.
  bool Next(absl::string_view* body);

 private:
  int fd_;
  std::vector<char> buf_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

// Writes all of `data`; false on error.
bool WriteFully(int fd, absl::string_view data);

// A blocking TCP connection to 127.0.0.1:port with TCP_NODELAY; -1 on error.
int RawConnect(uint16_t port);

// Thread-per-connection raw echo server. Thread-safe; Stop() joins.
class RawServer {
 public:
  RawServer() = default;
  ~RawServer() { Stop(); }
  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;

  // Listens on 127.0.0.1 (ephemeral port) and accepts on a thread; every
  // accepted socket gets TCP_NODELAY and a serving thread.
  uint16_t ListenTcp();
  // Serves an already connected socket (a socketpair end) on a new thread;
  // takes ownership of `fd`.
  void Serve(int fd);
  // Stops accepting, waits for every connection to end (the clients close
  // them) and joins every thread.
  void Stop();

 private:
  int listen_fd_ = -1;
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

// Answers raw echo requests on `fd` until EOF, then closes it.
void ServeRawEcho(int fd);

// The client of a sequential raw ping-pong: one write of the request frame,
// then one response frame read. Not thread-safe.
class RawClient {
 public:
  explicit RawClient(int fd);
  bool Call();

 private:
  int fd_;
  RawFrameReader reader_;
  std::string request_;
};

// `slots` threads sharing one raw connection, the simplest multiplexer: a
// thread writes its request under a write lock and sleeps until a dedicated
// reader thread, which reads every response (several per read when they
// pile up), routes its response to it by id. Call(slot) is called by one
// thread per slot.
class RawMux {
 public:
  RawMux(int fd, int slots);
  ~RawMux();  // Shuts the socket down for reading and joins the reader.
  RawMux(const RawMux&) = delete;
  RawMux& operator=(const RawMux&) = delete;
  bool Call(int slot);

 private:
  struct Slot {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::string request;
  };
  void ReadLoop();

  int fd_;
  std::mutex write_mu_;
  std::vector<Slot> slots_;
  std::thread reader_;
};

}  // namespace zen::bench

#endif  // ZEN_BENCH_RAW_ECHO_H_
