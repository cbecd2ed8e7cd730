// Hostile frames and messages from an authenticated peer, against a running
// server. Every test ends by checking that an honest client is served
// promptly and that the server's descriptors are back to their baseline.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "ipc/frame.h"
#include "ipc/options.h"
#include "rpc/envelope.h"
#include "rpc/json_writer.h"
#include "testing/deadline.h"
#include "tests/hostile/live_server.h"

namespace zen::hostile {
namespace {

using ::zen::testing::In;

void ExpectHealthy(LiveServer& server) {
  absl::Status honest = server.HonestCallIsPrompt();
  EXPECT_TRUE(honest.ok()) << honest;
  absl::Status fds = server.DescriptorsBackToBaseline();
  EXPECT_TRUE(fds.ok()) << fds;
}

// A response frame, parsed.
struct Response {
  std::string id;
  std::string result;
  absl::Status error;
};

absl::StatusOr<Response> ParseResponse(const std::string& body) {
  std::string padded = body + std::string(ipc::kFramePadding, '\0');
  rpc::ResponseView view;
  absl::Status status = rpc::EnvelopeParser(64).ParseResponse(
      absl::string_view(padded.data(), body.size()), &view);
  if (!status.ok()) return status;
  return Response{view.id, std::string(view.result), view.error};
}

absl::StatusOr<Response> ReadResponse(int fd, absl::Duration patience) {
  absl::StatusOr<std::string> body = ReadFrame(fd, In(patience));
  if (!body.ok()) return body.status();
  return ParseResponse(*body);
}

// Sends `bytes` on a fresh authenticated connection and expects the server
// to drop it without answering.
void ExpectDropped(LiveServer& server, const std::string& name,
                   const std::string& bytes) {
  absl::StatusOr<ipc::UniqueFd> fd =
      AuthenticatedConnect(server.port(), server.secret());
  ASSERT_TRUE(fd.ok()) << fd.status();
  const size_t rss_before = ResidentBytes();
  // The server may drop us before it has read everything.
  (void)SendBytes(fd->get(), bytes);
  const absl::Time start = zen::Now();
  absl::StatusOr<size_t> drained =
      DrainUntilClosed(fd->get(), In(absl::Seconds(10)));
  ASSERT_TRUE(drained.ok()) << name << ": " << drained.status();
  EXPECT_EQ(*drained, 0u) << name << ": the server answered";
  // Dropped as soon as the bytes are judged, not at a read timeout.
  EXPECT_LT(zen::Now() - start, PromptBound()) << name;
  // A declared length alone allocates nothing.
  if (bytes.size() < 64) {
    EXPECT_LT(ResidentBytes(), rss_before + (size_t{16} << 20)) << name;
  }
}

TEST(FrameAttackTest, OversizedLengthsAreDroppedBeforeAnyAllocation) {
  LiveServer server;
  const uint32_t max =
      static_cast<uint32_t>(server.options().listener.stream.max_frame_size);
  ExpectDropped(server, "4 GiB length", FrameHeader(0xFFFFFFFFu) + "[1,");
  ExpectDropped(server, "max+1 length", FrameHeader(max + 1) + "[1,");
  ExpectHealthy(server);
}

TEST(FrameAttackTest, FrameOfExactlyTheMaximumIsServed) {
  LiveServer server;
  const size_t max = server.options().listener.stream.max_frame_size;
  const std::string head = R"(["max","noop",[")";
  const std::string tail = R"("],{}])";
  const std::string body =
      head + std::string(max - head.size() - tail.size(), 'm') + tail;
  ASSERT_EQ(body.size(), max);
  absl::StatusOr<ipc::UniqueFd> fd =
      AuthenticatedConnect(server.port(), server.secret());
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(SendBytes(fd->get(), Frame(body)).ok());
  absl::StatusOr<Response> r = ReadResponse(fd->get(), absl::Seconds(20));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id, "max");
  EXPECT_EQ(r->result, "null");
  fd->Reset();
  ExpectHealthy(server);
}

TEST(FrameAttackTest, FramesThatAreNotJsonDropTheConnection) {
  LiveServer server;
  const std::string deep =
      absl::StrCat(R"(["deep","echo",[)", std::string(100000, '['),
                   std::string(100000, ']'), "],{}]");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"zero-length frame", ""},
      {"truncated JSON", R"(["a","echo")"},
      {"trailing comma", R"(["a","echo",[1,],{}])"},
      {"invalid UTF-8", "[\"a\",\"echo\",[\"\xff\xfe\"],{}]"},
      {"overlong UTF-8", "[\"a\",\"echo\",[\"\xc0\xaf\"],{}]"},
      {"UTF-16 surrogate in UTF-8", "[\"a\",\"echo\",[\"\xed\xa0\x80\"],{}]"},
      {"raw control character", "[\"a\",\"echo\",[\"a\x01z\"],{}]"},
      {"NaN", R"(["a","add",[NaN],{}])"},
      {"Infinity", R"(["a","add",[-Infinity],{}])"},
      {"number beyond double", R"(["a","add",[1e400],{}])"},
      {"block comment", R"(["a","echo",[] /* c */,{}])"},
      {"line comment", "[\"a\",\"echo\",[],{}] // c"},
      {"trailing bytes", R"(["a","ping",[],{}] x)"},
      {"two values", R"([] [])"},
      {"single quotes", R"(['a','ping',[],{}])"},
      {"100,000 nested arrays", deep},
  };
  for (const auto& [name, body] : cases) {
    ExpectDropped(server, name, Frame(body));
  }
  EXPECT_GE(server.server().stats().dropped_non_json, cases.size());
  ExpectHealthy(server);
}

TEST(FrameAttackTest, ThirtyMebibyteStringsAreServedIntact) {
  LiveServer server;
  const std::string big(30 << 20, 'z');
  absl::StatusOr<ipc::UniqueFd> fd =
      AuthenticatedConnect(server.port(), server.secret());
  ASSERT_TRUE(fd.ok());
  // As an argument (echoed back) and as the id (spliced into the answer).
  ASSERT_TRUE(SendBytes(fd->get(), Frame(absl::StrCat(R"(["s","echo",[")", big,
                                                      R"("],{}])")))
                  .ok());
  absl::StatusOr<Response> r = ReadResponse(fd->get(), absl::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id, "s");
  EXPECT_EQ(r->result.size(), big.size() + 2);
  EXPECT_EQ(r->result, absl::StrCat("\"", big, "\""));
  ASSERT_TRUE(SendBytes(fd->get(),
                        Frame(absl::StrCat(R"([")", big, R"(","ping",[],{}])")))
                  .ok());
  r = ReadResponse(fd->get(), absl::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id, big);
  EXPECT_EQ(r->result, "null");
  fd->Reset();
  ExpectHealthy(server);
}

TEST(FrameAttackTest, EveryWrongEnvelopeShapeIsIgnoredAndTheConnectionStays) {
  LiveServer server;
  const std::vector<std::string> shapes = {
      "{}",
      "null",
      "true",
      "1",
      R"("string")",
      "[]",
      R"(["a"])",
      R"(["a","ping"])",
      R"(["a","ping",[]])",
      R"(["a","ping",[],{},1])",
      R"([1,"ping",[],{}])",
      R"([null,"ping",[],{}])",
      R"([["a"],"ping",[],{}])",
      R"([{"a":1},"ping",[],{}])",
      R"(["a",1,[],{}])",
      R"(["a",null,[],{}])",
      R"(["a",["ping"],[],{}])",
      R"(["a","ping",{},{}])",
      R"(["a","ping","x",{}])",
      R"(["a","ping",null,{}])",
      R"(["a","ping",[],[]])",
      R"(["a","ping",[],"x"])",
      R"(["a","ping",[],null])",
      R"({"0":"a","1":"ping","2":[],"3":{}})",
      R"(["a","echo",["x"],{}, null])",
  };
  const uint64_t ignored_before = server.server().stats().malformed_ignored;
  absl::StatusOr<ipc::UniqueFd> fd =
      AuthenticatedConnect(server.port(), server.secret());
  ASSERT_TRUE(fd.ok());
  std::string all;
  for (const std::string& shape : shapes) all += Frame(shape);
  all += Frame(R"(["alive","echo",["yes"],{}])");
  ASSERT_TRUE(SendBytes(fd->get(), all).ok());
  // The only answer is the last request's.
  absl::StatusOr<Response> r = ReadResponse(fd->get(), absl::Seconds(5));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id, "alive");
  EXPECT_EQ(r->result, R"("yes")");
  absl::StatusOr<std::string> more =
      ReadFrame(fd->get(), In(absl::Milliseconds(200)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(more.status())) << more.status();
  EXPECT_EQ(server.server().stats().malformed_ignored - ignored_before,
            shapes.size());
  fd->Reset();
  ExpectHealthy(server);
}

TEST(FrameAttackTest, DuplicateIdsInFlightAreEachAnsweredOnce) {
  LiveServer server;
  absl::StatusOr<ipc::UniqueFd> fd =
      AuthenticatedConnect(server.port(), server.secret());
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(SendBytes(fd->get(), Frame(R"(["dup","slow",[0.3],{}])") +
                                       Frame(R"(["dup","slow",[0.1],{}])") +
                                       Frame(R"(["dup","echo",["now"],{}])") +
                                       Frame(R"(["dup","fail",[],{}])"))
                  .ok());
  std::vector<std::string> results;
  int errors = 0;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<Response> r = ReadResponse(fd->get(), absl::Seconds(5));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->id, "dup");
    if (r->error.ok()) {
      results.push_back(r->result);
    } else {
      ++errors;
      EXPECT_EQ(r->error.message(), "boom");
    }
  }
  std::sort(results.begin(), results.end());
  EXPECT_EQ(results,
            (std::vector<std::string>{R"("done")", R"("done")", R"("now")"}));
  EXPECT_EQ(errors, 1);
  // Nothing else arrives, and the connection still works.
  ASSERT_TRUE(SendBytes(fd->get(), Frame(R"(["after","ping",[],{}])")).ok());
  absl::StatusOr<Response> r = ReadResponse(fd->get(), absl::Seconds(5));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id, "after");
  fd->Reset();
  ExpectHealthy(server);
}

TEST(FrameAttackTest, UnknownMethodsAreAnsweredUnimplemented) {
  LiveServer server;
  absl::StatusOr<ipc::UniqueFd> fd =
      AuthenticatedConnect(server.port(), server.secret());
  ASSERT_TRUE(fd.ok());
  const std::vector<std::string> methods = {
      "nope",
      "",
      "Echo",
      "echo ",
      "attack_wave_flagged?",
      "quote\" back\\slash \n newline \x01 control",
      "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80",
      std::string(1 << 20, 'm'),
  };
  for (const std::string& method : methods) {
    ASSERT_TRUE(SendBytes(fd->get(), Frame(absl::StrCat(R"(["u",)",
                                                        rpc::JsonString(method),
                                                        R"(,[],{}])")))
                    .ok());
    absl::StatusOr<Response> r = ReadResponse(fd->get(), absl::Seconds(5));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->id, "u");
    EXPECT_EQ(r->error.code(), absl::StatusCode::kUnimplemented);
    EXPECT_EQ(r->error.message(),
              absl::StrCat("undefined handler '", method, "'"));
  }
  fd->Reset();
  ExpectHealthy(server);
}

}  // namespace
}  // namespace zen::hostile
