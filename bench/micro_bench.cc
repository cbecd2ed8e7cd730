// Micro-benchmarks (Google Benchmark) of the per-call pieces, on the echo
// call's real bytes: framing, the envelope, the stubs' JSON, and the CPU of
// one HMAC handshake (both sides' crypto, no sockets).
//
//   bazel run -c opt //bench:micro_bench -- --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "absl/strings/string_view.h"
#include "bench/bench_util.h"
#include "bench/echo.pb.h"
#include "codegen_runtime/method_codec.h"
#include "codegen_runtime/padded_json.h"
#include "ipc/crypto.h"
#include "ipc/frame.h"
#include "ipc/handshake.h"
#include "ipc/options.h"
#include "ipc/secret.h"
#include "rpc/envelope.h"
#include "rpc/json_writer.h"

namespace zen::bench {
namespace {

const std::string& RequestBody() {
  static const std::string* body =
      new std::string(EchoRequestBody(RawCallId(1)));
  return *body;
}

const std::string& ResponseBody() {
  static const std::string* body =
      new std::string(EchoResponseBody(RawCallId(1)));
  return *body;
}

// The text with the read-ahead padding simdjson needs after it, as frames
// have it.
std::string Padded(absl::string_view text) {
  std::string out(text);
  out.reserve(text.size() + ipc::kFramePadding);
  return out;
}

const codegen_runtime::MethodCodec& EchoCodec() {
  static const codegen_runtime::MethodCodec* codec =
      new codegen_runtime::MethodCodec(codegen_runtime::MethodSpec(
          "echo", EchoMessage::descriptor(), EchoMessage::descriptor()));
  return *codec;
}

EchoMessage Payload() {
  EchoMessage m;
  m.set_user(kPayloadUser);
  m.set_path(kPayloadPath);
  m.set_n(kPayloadN);
  return m;
}

void BM_FrameEncodeHeader(benchmark::State& state) {
  uint8_t header[ipc::kFrameHeaderSize];
  uint32_t size = static_cast<uint32_t>(RequestBody().size());
  for (auto _ : state) {
    ipc::EncodeFrameHeader(size, header);
    benchmark::DoNotOptimize(header);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_FrameEncodeHeader);

// One frame arriving in one read: copy into the decoder's buffer, decode.
void BM_FrameDecode(benchmark::State& state) {
  const std::string frame = Framed(RequestBody());
  ipc::FrameDecoder decoder(ipc::kDefaultMaxFrameSize);
  for (auto _ : state) {
    absl::Span<uint8_t> space = decoder.PrepareWrite();
    std::memcpy(space.data(), frame.data(), frame.size());
    decoder.Commit(frame.size());
    auto next = decoder.Next();
    benchmark::DoNotOptimize(next);
  }
  state.SetBytesProcessed(state.iterations() * frame.size());
}
BENCHMARK(BM_FrameDecode);

void BM_EnvelopeParseRequest(benchmark::State& state) {
  const std::string body = Padded(RequestBody());
  rpc::EnvelopeParser parser;
  rpc::RequestView request;
  for (auto _ : state) {
    absl::Status status = parser.ParseRequest(body, &request);
    benchmark::DoNotOptimize(status);
  }
  state.SetBytesProcessed(state.iterations() * body.size());
}
BENCHMARK(BM_EnvelopeParseRequest);

void BM_EnvelopeParseResponse(benchmark::State& state) {
  const std::string body = Padded(ResponseBody());
  rpc::EnvelopeParser parser;
  rpc::ResponseView response;
  for (auto _ : state) {
    absl::Status status = parser.ParseResponse(body, &response);
    benchmark::DoNotOptimize(status);
  }
  state.SetBytesProcessed(state.iterations() * body.size());
}
BENCHMARK(BM_EnvelopeParseResponse);

// What the client builds per call before its gathered write: the method's
// JSON string and the request's parts, gathered into one buffer here (the
// kernel does the gathering for real).
void BM_EnvelopeWriteRequest(benchmark::State& state) {
  std::string out;
  for (auto _ : state) {
    const std::string method_json = rpc::JsonString("echo");
    rpc::RequestParts parts(RawCallId(1), method_json, "[]", kPayloadJson);
    out.clear();
    for (absl::string_view p : parts.parts()) out.append(p.data(), p.size());
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_EnvelopeWriteRequest);

// The server's response parts, gathered likewise.
void BM_EnvelopeWriteResponse(benchmark::State& state) {
  const std::string id_json = "\"" + RawCallId(1) + "\"";
  std::string out;
  for (auto _ : state) {
    const absl::string_view parts[] = {"[", id_json, ",", kPayloadJson,
                                       ",null]"};
    out.clear();
    for (absl::string_view p : parts) out.append(p.data(), p.size());
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_EnvelopeWriteResponse);

void BM_StubEncodeRequest(benchmark::State& state) {
  const EchoMessage request = Payload();
  std::string args, kwargs;
  for (auto _ : state) {
    args.clear();
    kwargs.clear();
    absl::Status status = EchoCodec().EncodeRequest(request, &args, &kwargs);
    benchmark::DoNotOptimize(status);
  }
}
BENCHMARK(BM_StubEncodeRequest);

void BM_StubDecodeRequest(benchmark::State& state) {
  const std::string args = Padded("[]");
  const std::string kwargs = Padded(kPayloadJson);
  EchoMessage request;
  for (auto _ : state) {
    absl::Status status = EchoCodec().DecodeRequest(
        codegen_runtime::PaddedJsonView(args),
        codegen_runtime::PaddedJsonView(kwargs), &request);
    benchmark::DoNotOptimize(status);
  }
}
BENCHMARK(BM_StubDecodeRequest);

void BM_StubEncodeResult(benchmark::State& state) {
  const EchoMessage response = Payload();
  std::string result;
  for (auto _ : state) {
    result.clear();
    absl::Status status = EchoCodec().EncodeResult(response, &result);
    benchmark::DoNotOptimize(status);
  }
}
BENCHMARK(BM_StubEncodeResult);

void BM_StubDecodeResult(benchmark::State& state) {
  const std::string result = Padded(kPayloadJson);
  EchoMessage response;
  for (auto _ : state) {
    absl::Status status = EchoCodec().DecodeResult(
        codegen_runtime::PaddedJsonView(result), &response);
    benchmark::DoNotOptimize(status);
  }
}
BENCHMARK(BM_StubDecodeResult);

// Both sides' crypto of one handshake: two 32-byte challenges from the
// CSPRNG and four HMAC-SHA256 (each side computes one proof and checks the
// other's), through the library's fork-safe wrappers.
void BM_HandshakeCrypto(benchmark::State& state) {
  absl::StatusOr<ipc::Secret> secret = ipc::Secret::Generate();
  if (!secret.ok()) {
    state.SkipWithError("no secret");
    return;
  }
  uint8_t server_challenge[ipc::kChallengeSize];
  uint8_t client_challenge[ipc::kChallengeSize];
  uint8_t mac[ipc::kHmacSize];
  for (auto _ : state) {
    (void)ipc::SecureRandomBytes(server_challenge);
    (void)ipc::SecureRandomBytes(client_challenge);
    (void)ipc::ComputeProof(*secret, ipc::kClientAuthLabel, server_challenge,
                            mac);
    (void)ipc::ComputeProof(*secret, ipc::kClientAuthLabel, server_challenge,
                            mac);
    (void)ipc::ComputeProof(*secret, ipc::kServerAuthLabel, client_challenge,
                            mac);
    (void)ipc::ComputeProof(*secret, ipc::kServerAuthLabel, client_challenge,
                            mac);
    benchmark::DoNotOptimize(mac);
  }
}
BENCHMARK(BM_HandshakeCrypto);

}  // namespace
}  // namespace zen::bench

BENCHMARK_MAIN();
