// SocketStream's waits over a real loopback TCP connection: reads block in
// recv(2) bounded by SO_RCVTIMEO, so these check that every deadline is
// still kept whatever timeout an earlier read left on the socket, that
// Shutdown wakes a blocked reader, and that writes never block past theirs.
#include "ipc/socket_stream.h"

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "gtest/gtest.h"
#include "ipc/socket_io.h"
#include "testing/deadline.h"

namespace zen::ipc {
namespace {

using ::zen::testing::In;

// Generous for a loaded 2-CPU machine and sanitizers; what these tests catch
// (a read outliving its deadline by a stale multi-second SO_RCVTIMEO, a
// reader or writer that never wakes) is seconds.
constexpr absl::Duration kSlack = absl::Milliseconds(500);

struct ConnectedPair {
  explicit ConnectedPair(StreamOptions options = {}) {
    absl::StatusOr<UniqueFd> listen = ListenTcp(kLoopbackHost, 0, 4);
    EXPECT_TRUE(listen.ok()) << listen.status();
    absl::StatusOr<uint16_t> port = LocalPort(listen->get());
    EXPECT_TRUE(port.ok());
    absl::StatusOr<UniqueFd> client =
        ConnectTcp(kLoopbackHost, *port, In(absl::Seconds(5)));
    EXPECT_TRUE(client.ok()) << client.status();
    absl::StatusOr<UniqueFd> server =
        Accept(listen->get(), In(absl::Seconds(5)));
    EXPECT_TRUE(server.ok()) << server.status();
    a = std::make_unique<SocketStream>(std::move(*client), options);
    b = std::make_unique<SocketStream>(std::move(*server), options);
  }
  std::unique_ptr<SocketStream> a;
  std::unique_ptr<SocketStream> b;
};

absl::Status Send(SocketStream& stream, absl::string_view body) {
  return stream.Write({&body, 1}, In(absl::Seconds(5)));
}

TEST(SocketStreamTest, FramesArriveWhileTheReaderBlocks) {
  ConnectedPair pair;
  std::thread writer([&] {
    zen::SleepFor(absl::Milliseconds(100));
    EXPECT_TRUE(Send(*pair.a, "late").ok());
  });
  const absl::Time start = zen::Now();
  absl::StatusOr<Frame> frame = pair.b->Read(In(absl::Seconds(20)));
  writer.join();
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->body, "late");
  EXPECT_LT(zen::Now() - start, absl::Seconds(5));
}

// Small frames are copied into one buffer before the write, large ones go
// out gathered: either way the peer reads each frame's parts joined, in
// order, at every size around the switch and with empty parts among them.
TEST(SocketStreamTest, FramesOfManyPartsArriveWholeAtEverySize) {
  ConnectedPair pair;
  std::vector<std::string> sent;
  for (size_t size :
       {0, 1, 100, 1000, 1010, 1019, 1020, 1021, 1030, 4096, 100000}) {
    std::string body;
    for (size_t i = 0; i < size; ++i) body.push_back('a' + (i * 7 + size) % 26);
    // Cut into parts of uneven sizes, some empty, one a null view.
    std::vector<absl::string_view> parts = {absl::string_view()};
    for (size_t at = 0, n = 0; at < body.size() || n < 3; ++n) {
      const size_t len = std::min(body.size() - at, n % 3 == 1 ? 0 : n * 37);
      parts.push_back(absl::string_view(body).substr(at, len));
      at += len;
    }
    std::thread writer(
        [&] { EXPECT_TRUE(pair.a->Write(parts, In(absl::Seconds(5))).ok()); });
    absl::StatusOr<Frame> frame = pair.b->Read(In(absl::Seconds(5)));
    writer.join();
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(frame->body, body) << size;
  }
}

TEST(SocketStreamTest, AShortDeadlineAfterALongOneIsKept) {
  ConnectedPair pair;
  // A read with a long deadline leaves a long SO_RCVTIMEO on the socket.
  std::thread writer([&] {
    zen::SleepFor(absl::Milliseconds(50));
    EXPECT_TRUE(Send(*pair.a, "one").ok());
  });
  ASSERT_TRUE(pair.b->Read(In(absl::Seconds(30))).ok());
  writer.join();
  for (absl::Duration wait :
       {absl::Milliseconds(20), absl::Milliseconds(200), absl::Seconds(1)}) {
    const absl::Time start = zen::Now();
    absl::StatusOr<Frame> frame = pair.b->Read(start + wait);
    const absl::Duration took = zen::Now() - start;
    EXPECT_TRUE(absl::IsDeadlineExceeded(frame.status())) << frame.status();
    EXPECT_GE(took, wait);
    EXPECT_LT(took, wait + kSlack) << "deadline " << wait;
  }
  // And the stream still works after its reads timed out.
  ASSERT_TRUE(Send(*pair.a, "two").ok());
  absl::StatusOr<Frame> frame = pair.b->Read(In(absl::Seconds(5)));
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->body, "two");
}

TEST(SocketStreamTest, TheFirstReadOfAStreamKeepsAShortDeadline) {
  // SO_RCVTIMEO starts as "none": a short first wait must set one (or poll),
  // never block without a limit. 120 ms once blocked forever until Shutdown.
  for (absl::Duration wait :
       {absl::Milliseconds(51), absl::Milliseconds(120)}) {
    ConnectedPair pair;
    const absl::Time start = zen::Now();
    absl::Status status;
    Mutex mu;
    CondVar read_done;
    bool done = false;
    std::thread reader([&] {
      status = pair.b->Read(start + wait).status();
      MutexLock lock(&mu);
      done = true;
      read_done.Signal();
    });
    // Rescues a reader stuck past its deadline, so the test ends either way
    // (and waits no longer than the read when it ends in time).
    std::thread rescue([&] {
      MutexLock lock(&mu);
      const absl::Time give_up = start + absl::Seconds(3);
      while (!done && read_done.WaitUntil(&mu, give_up)) {
      }
      if (!done) pair.b->Shutdown();
    });
    reader.join();
    const absl::Duration took = zen::Now() - start;
    rescue.join();
    EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << status;
    EXPECT_LT(took, wait + kSlack) << "deadline " << wait;
  }
}

TEST(SocketStreamTest, SecondsLongDeadlinesAreKeptToTheMillisecond) {
  // The kernel's timer wheel fires a 3 s SO_RCVTIMEO ~100 ms late; the wait
  // must end on time all the same (poll covers the last stretch).
  ConnectedPair pair;
  for (int i = 0; i < 2; ++i) {
    const absl::Time deadline = zen::Now() + absl::Seconds(3);
    absl::StatusOr<Frame> frame = pair.b->Read(deadline);
    EXPECT_TRUE(absl::IsDeadlineExceeded(frame.status())) << frame.status();
    EXPECT_LT(zen::Now() - deadline, absl::Milliseconds(40));
  }
}

TEST(SocketStreamTest, ShutdownWakesABlockedReader) {
  ConnectedPair pair;
  absl::Time woke;
  std::thread reader([&] {
    absl::StatusOr<Frame> frame = pair.b->Read(In(absl::Seconds(30)));
    woke = zen::Now();
    EXPECT_TRUE(absl::IsUnavailable(frame.status())) << frame.status();
  });
  zen::SleepFor(absl::Milliseconds(100));  // Let it block in recv.
  const absl::Time shut = zen::Now();
  pair.b->Shutdown();
  reader.join();
  EXPECT_LT(woke - shut, kSlack);
}

TEST(SocketStreamTest, PeerClosingWakesABlockedReader) {
  ConnectedPair pair;
  std::thread closer([&] {
    zen::SleepFor(absl::Milliseconds(100));
    pair.a.reset();
  });
  const absl::Time start = zen::Now();
  absl::StatusOr<Frame> frame = pair.b->Read(In(absl::Seconds(30)));
  closer.join();
  EXPECT_TRUE(absl::IsUnavailable(frame.status())) << frame.status();
  EXPECT_LT(zen::Now() - start, absl::Seconds(5));
}

TEST(SocketStreamTest, WritesToAPeerThatNeverReadsStopAtTheirDeadline) {
  ConnectedPair pair;
  const std::string mib(1 << 20, 'x');
  absl::string_view body = mib;
  absl::Status written;
  const absl::Duration wait = absl::Milliseconds(300);
  absl::Time start;
  for (int i = 0; i < 64 && written.ok(); ++i) {
    start = zen::Now();
    written = pair.b->Write({&body, 1}, start + wait);
  }
  // kDeadlineExceeded if none of the last frame left, kUnavailable if the
  // deadline cut it (the usual case: the kernel takes what fits).
  EXPECT_TRUE(absl::IsDeadlineExceeded(written) || absl::IsUnavailable(written))
      << written;
  EXPECT_LT(zen::Now() - start, wait + kSlack);
}

TEST(SocketStreamTest, AWriteThatTimesOutBeforeSendingAnythingKeepsTheStream) {
  ConnectedPair pair;
  // Small frames to a peer that does not read, until one cannot go.
  auto body = [](int i) {
    std::string text = absl::StrCat("frame ", i, " ");
    text.resize(100, '.');
    return text;
  };
  int accepted = 0;
  absl::Status refused;
  for (; accepted < 1000000; ++accepted) {
    const std::string text = body(accepted);
    refused =
        pair.a->Write({absl::string_view(text)}, In(absl::Milliseconds(20)));
    if (!refused.ok()) break;
  }
  ASSERT_FALSE(refused.ok());
  if (absl::IsDeadlineExceeded(refused)) {
    // Nothing of it left: every accepted frame arrives whole, in order, and
    // the stream carries the next one.
    for (int i = 0; i < accepted; ++i) {
      absl::StatusOr<Frame> frame = pair.b->Read(In(absl::Seconds(5)));
      ASSERT_TRUE(frame.ok()) << i << ": " << frame.status();
      ASSERT_EQ(frame->body, body(i));
    }
    ASSERT_TRUE(Send(*pair.a, "after").ok());
    absl::StatusOr<Frame> after = pair.b->Read(In(absl::Seconds(5)));
    ASSERT_TRUE(after.ok()) << after.status();
    EXPECT_EQ(after->body, "after");
  } else {
    // Cut mid-frame (the kernel took part of it): the stream is broken.
    EXPECT_TRUE(absl::IsUnavailable(refused)) << refused;
    EXPECT_TRUE(absl::IsUnavailable(Send(*pair.a, "after")));
  }
}

StreamOptions Spinning(absl::Duration spin) {
  StreamOptions options;
  options.spin_before_block = spin;
  return options;
}

TEST(SocketStreamTest, ASpinningReaderGetsWhatArrivesDuringAndAfterItsSpin) {
  ConnectedPair pair(Spinning(absl::Milliseconds(200)));
  for (absl::Duration delay :
       {absl::Milliseconds(20), absl::Milliseconds(400)}) {
    // Empty the socket first, so that the read below spins.
    ASSERT_TRUE(Send(*pair.a, "warm").ok());
    ASSERT_TRUE(pair.b->Read(In(absl::Seconds(5))).ok());
    std::thread writer([&] {
      zen::SleepFor(delay);
      EXPECT_TRUE(Send(*pair.a, "late").ok());
    });
    absl::StatusOr<Frame> frame = pair.b->Read(In(absl::Seconds(20)));
    writer.join();
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(frame->body, "late");
  }
}

TEST(SocketStreamTest, SpinningStopsAtTheDeadlineAndAtShutdown) {
  ConnectedPair pair(Spinning(absl::Seconds(30)));
  ASSERT_TRUE(Send(*pair.a, "warm").ok());
  ASSERT_TRUE(pair.b->Read(In(absl::Seconds(5))).ok());
  const absl::Duration wait = absl::Milliseconds(100);
  absl::Time start = zen::Now();
  absl::StatusOr<Frame> frame = pair.b->Read(start + wait);
  EXPECT_TRUE(absl::IsDeadlineExceeded(frame.status())) << frame.status();
  EXPECT_LT(zen::Now() - start, wait + kSlack);

  absl::Time woke;
  std::thread reader([&] {
    absl::StatusOr<Frame> eof = pair.b->Read(In(absl::Seconds(60)));
    woke = zen::Now();
    EXPECT_TRUE(absl::IsUnavailable(eof.status())) << eof.status();
  });
  zen::SleepFor(absl::Milliseconds(100));  // Let it spin.
  start = zen::Now();
  pair.b->Shutdown();
  reader.join();
  EXPECT_LT(woke - start, kSlack);
}

}  // namespace
}  // namespace zen::ipc
