// The rate-limit call and the event call through the C ABI
// (libzen_agent.so, zen_agent_rate_limit / zen_agent_track) against the
// same calls on the C++ API (AgentClient), built from this one file twice:
// //bench:capi_compare_c_abi and //bench:capi_compare_cpp (a process may
// hold only one copy of the agent, docs/c_api.md). What the C ABI adds is
// the difference; a binding's own cost comes on top of it.
//
// Measured in the parent (the in-process client: no socket, so the ABI's
// share is not lost in a round trip's noise) and from a forked worker over
// the socket. Each call counts one request of one of 1,000 client IPs
// against a limit it never reaches: the admitted path. Prints one line per
// measurement: p50 and p99 of single calls timed on their own.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/bench_util.h"

#ifdef ZEN_BENCH_VIA_C_ABI
#include "zen/zen_agent.h"
#else
#include "agent/agent.h"
#endif

namespace zen::bench {
namespace {

constexpr char kConfig[] =
    R"({"endpoints":[{"method":"GET","route":"/limited","rateLimiting":)"
    R"({"enabled":true,"maxRequests":1000000,"windowSizeInMS":60000}}]})";
#ifdef ZEN_BENCH_VIA_C_ABI
constexpr char kVia[] = "c_abi";
// The event as a host hands it to the C ABI: the reference's JSON.
constexpr char kEvent[] = R"({"type":"track_request"})";

struct Host {
  zen_agent* agent = nullptr;

  bool Start() {
    return zen_agent_create(nullptr, 0, &agent, nullptr) == ZEN_OK &&
           zen_agent_update_config(agent, kConfig, strlen(kConfig), nullptr) ==
               ZEN_OK;
  }
  bool RateLimit(const std::string& ip) {
    zen_rate_limit r;
    const bool ok =
        zen_agent_rate_limit(agent, "GET", 3, "/limited", 8, ip.data(),
                             ip.size(), nullptr, 0, &r, nullptr) == ZEN_OK &&
        r.applies == 1 && r.throttled == 0;
    zen_free(r.discriminator);
    return ok;
  }
  bool Track() {
    return zen_agent_track(agent, kEvent, sizeof(kEvent) - 1, nullptr) ==
           ZEN_OK;
  }
  bool Flush() { return zen_agent_flush(agent, nullptr) == ZEN_OK; }
};
#else
constexpr char kVia[] = "cpp";

struct Host {
  std::unique_ptr<Agent> agent;

  bool Start() {
    absl::StatusOr<std::unique_ptr<Agent> > made = Agent::Create();
    if (!made.ok()) return false;
    agent = *std::move(made);
    return agent->server()->UpdateConfig(kConfig).ok();
  }
  bool RateLimit(const std::string& ip) {
    AgentClient* client = agent->client();
    if (client == nullptr) return false;
    const RateLimitAnswer answer = client->CalculateRateLimits(
        RouteKey{"GET", "/limited"}, ip, std::nullopt);
    return answer.result.has_value() && !answer.result->throttled;
  }
  bool Track() {
    AgentClient* client = agent->client();
    if (client == nullptr) return false;
    // A C++ host builds the event itself; through the C ABI it is the
    // reference's JSON, read and checked (what a binding hands over).
    CollectorEvent event;
    event.type = CollectorEventType::kRequest;
    client->RecordEvent(std::move(event));
    return true;
  }
  bool Flush() {
    AgentClient* client = agent->client();
    return client != nullptr && client->Flush().ok();
  }
};
#endif

struct Figures {
  double p50_ns = 0;
  double p99_ns = 0;
  int failures = 0;
};

template <typename Call>
Figures Measure(int warmup, int calls, Call call) {
  Figures f;
  for (int i = 0; i < warmup; ++i) f.failures += call(i) ? 0 : 1;
  std::vector<double> ns;
  ns.reserve(calls);
  for (int i = 0; i < calls; ++i) {
    const int64_t start = NowNs();
    f.failures += call(i) ? 0 : 1;
    ns.push_back(static_cast<double>(NowNs() - start));
  }
  f.p50_ns = Percentile(ns, 0.5);
  f.p99_ns = Percentile(ns, 0.99);
  return f;
}

void Print(const char* where, const char* what, int calls, const Figures& f) {
  std::printf(
      "{\"bench\":\"capi_compare\",\"via\":\"%s\",\"where\":\"%s\","
      "\"call\":\"%s\",\"calls\":%d,\"p50_ns\":%.0f,\"p99_ns\":%.0f,"
      "\"failures\":%d}\n",
      kVia, where, what, calls, f.p50_ns, f.p99_ns, f.failures);
  std::fflush(stdout);
}

int Run(int argc, char** argv) {
  const Flags flags(argc, argv);
  const int calls = static_cast<int>(flags.GetInt("calls", 100000));
  const int worker_calls =
      static_cast<int>(flags.GetInt("worker_calls", 20000));
  std::vector<std::string> ips;
  for (int i = 0; i < 1000; ++i) {
    ips.push_back(absl::StrCat("198.51.", i / 250, ".", i % 250 + 1));
  }
  Host host;
  if (!host.Start()) {
    std::fprintf(stderr, "capi_compare: could not start the agent\n");
    return 1;
  }
  PinToCpu(kServerCpu);
  Print("parent", "rate_limit", calls, Measure(calls / 10, calls, [&](int i) {
          return host.RateLimit(ips[i % ips.size()]);
        }));
  Print("parent", "track", calls,
        Measure(calls / 10, calls, [&](int) { return host.Track(); }));

  SharedArray<Figures> results(2);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    PinToCpu(ClientCpu(Placement::kSplit));
    results[0] = Measure(worker_calls / 10, worker_calls, [&](int i) {
      return host.RateLimit(ips[i % ips.size()]);
    });
    results[1] = Measure(worker_calls / 10, worker_calls,
                         [&](int) { return host.Track(); });
    if (!host.Flush()) results[1].failures += 1;
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  Print("worker", "rate_limit", worker_calls, results[0]);
  Print("worker", "track", worker_calls, results[1]);
  return results[0].failures + results[1].failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace zen::bench

int main(int argc, char** argv) { return zen::bench::Run(argc, argv); }
