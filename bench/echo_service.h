// The echo service of the benchmarks, as this library serves it: a
// generated zen::bench::EchoService::Service answering its request.
#ifndef ZEN_BENCH_ECHO_SERVICE_H_
#define ZEN_BENCH_ECHO_SERVICE_H_

#include "absl/status/status.h"
#include "bench/bench_util.h"
#include "bench/echo.pb.h"
#include "bench/echo.zenrpc.h"

namespace zen::bench {

class ZenEchoService final : public EchoService::Service {
 public:
  absl::Status Echo(codegen_runtime::ServerContext*, const EchoMessage& request,
                    EchoMessage* response) override {
    *response = request;
    return absl::OkStatus();
  }
};

// The request every echo call sends (kPayloadJson as a message).
inline EchoMessage PayloadMessage() {
  EchoMessage m;
  m.set_user(kPayloadUser);
  m.set_path(kPayloadPath);
  m.set_n(kPayloadN);
  return m;
}

}  // namespace zen::bench

#endif  // ZEN_BENCH_ECHO_SERVICE_H_
