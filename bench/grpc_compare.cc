// gRPC C++ (Debian's libgrpc++), the peer a user would pick instead: a
// unary echo service over 127.0.0.1 with the synchronous API, server in one
// process and client in a fork()ed child, pinned as the other systems are.
// Prints one JSON line:
//
//   grpc_compare --mode=echo --placement=split|shared [--calls=N] ...
//   grpc_compare --mode=handshake [--connects=2000]
//
// gRPC does not survive fork() with live gRPC state, so the child is forked
// before either process touches gRPC (a real pre-fork server using gRPC
// would have to do the same), and gets the port through a pipe.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/bench_util.h"
#include "bench/echo.grpc.pb.h"
#include "bench/echo.pb.h"

namespace zen::bench {
namespace {

class GrpcEchoService final : public EchoService::Service {
  grpc::Status Echo(grpc::ServerContext*, const EchoMessage* request,
                    EchoMessage* response) override {
    *response = *request;
    return grpc::Status::OK;
  }
};

EchoMessage PayloadMessage() {
  EchoMessage m;
  m.set_user(kPayloadUser);
  m.set_path(kPayloadPath);
  m.set_n(kPayloadN);
  return m;
}

bool CallEcho(EchoService::Stub* stub, const EchoMessage& request) {
  grpc::ClientContext context;
  EchoMessage response;
  const grpc::Status status = stub->Echo(&context, request, &response);
  return status.ok() && response.n() == kPayloadN;
}

struct HandshakeFigures {
  double p50_us = 0;
  double p99_us = 0;
  int64_t errors = 0;
};

// Runs `client(target)` in a child forked before any gRPC state exists,
// while this process serves echo on an ephemeral port. The child's pipe
// carries the port.
int ServeForChild(Placement placement,
                  const std::function<int(const std::string&)>& client) {
  Pipe port_pipe;
  SharedArray<int> port(1);
  const pid_t pid = ForkChild([&] {
    PinToCpu(ClientCpu(placement));
    if (!port_pipe.Wait()) return 1;
    return client(absl::StrCat("127.0.0.1:", port[0]));
  });
  GrpcEchoService service;
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &bound_port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound_port == 0) return 1;
  port[0] = bound_port;
  port_pipe.Post();
  const bool ok = Reap(pid);
  server->Shutdown();
  return ok ? 0 : 1;
}

int RunEcho(const Flags& flags) {
  const Placement placement = flags.GetPlacement();
  const int warmup = static_cast<int>(flags.GetInt("warmup", 2000));
  const int calls = static_cast<int>(flags.GetInt("calls", 10000));
  const int threads = static_cast<int>(flags.GetInt("threads", 8));
  const int mt_calls = static_cast<int>(flags.GetInt("mt_calls", 16000));
  SharedArray<EchoFigures> out(1);
  const int rc = ServeForChild(placement, [&](const std::string& target) {
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    std::unique_ptr<EchoService::Stub> stub = EchoService::NewStub(channel);
    const EchoMessage request = PayloadMessage();
    out[0] = RunSequential([&] { return CallEcho(stub.get(), request); },
                           warmup, calls);
    if (threads > 0) {
      // One channel (one HTTP/2 connection) shared by every thread.
      RunThreaded([&](int) { return CallEcho(stub.get(), request); }, threads,
                  mt_calls, warmup, &out[0]);
    }
    return 0;
  });
  if (rc != 0) return rc;
  JsonLine("echo")
      .Add("system", "grpc")
      .Add("placement", PlacementName(placement))
      .Add("threads", threads)
      .AddEcho(out[0])
      .Print();
  return 0;
}

int RunHandshake(const Flags& flags) {
  const int connects = static_cast<int>(flags.GetInt("connects", 2000));
  SharedArray<HandshakeFigures> out(1);
  const int rc =
      ServeForChild(Placement::kSplit, [&](const std::string& target) {
        const EchoMessage request = PayloadMessage();
        std::vector<double> us;
        for (int i = 0; i < connects; ++i) {
          const int64_t start = NowNs();
          // A fresh channel each time: a new connection, its HTTP/2 setup
          // and the first call on it.
          grpc::ChannelArguments args;
          args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
          std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
              target, grpc::InsecureChannelCredentials(), args);
          std::unique_ptr<EchoService::Stub> stub =
              EchoService::NewStub(channel);
          if (!CallEcho(stub.get(), request)) ++out[0].errors;
          us.push_back((NowNs() - start) * 1e-3);
        }
        out[0].p50_us = Percentile(us, 0.5);
        out[0].p99_us = Percentile(us, 0.99);
        return 0;
      });
  if (rc != 0) return rc;
  JsonLine("handshake")
      .Add("system", "grpc")
      .Add("connects", connects)
      .Add("p50_us", out[0].p50_us)
      .Add("p99_us", out[0].p99_us)
      .Add("errors", out[0].errors)
      .Print();
  return 0;
}

int Main(int argc, char** argv) {
  const Flags flags(argc, argv);
  PinToCpu(kServerCpu);
  const std::string mode = flags.GetString("mode", "echo");
  if (mode == "echo") return RunEcho(flags);
  if (mode == "handshake") return RunHandshake(flags);
  std::fprintf(stderr, "unknown --mode=%s\n", mode.c_str());
  return 2;
}

}  // namespace
}  // namespace zen::bench

int main(int argc, char** argv) { return zen::bench::Main(argc, argv); }
