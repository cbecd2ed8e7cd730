// prefork_server: a small pre-forking HTTP server in the style of Unicorn or
// gunicorn, protected through the worker-process agent.
//
// The parent binds the listening socket, creates the Agent (which starts the
// agent server), feeds it the settings, forks the workers and supervises
// them, and prints the statistics the workers' events add up to. Each worker
// serves HTTP on the inherited socket and asks the parent, through its agent
// client, for settings and shared rate limits. --self-test runs the whole
// thing under load and checks it (see self_test.h).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "agent/agent.h"
#include "base/clock.h"
#include "base/log.h"
#include "examples/listen_socket.h"
#include "examples/metrics_endpoint.h"
#include "examples/self_test.h"
#include "examples/settings_source.h"
#include "examples/stats_report.h"
#include "examples/supervisor.h"
#include "examples/worker.h"
#include "examples/worker_metrics.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "IPv4 address to listen on");
ABSL_FLAG(int, port, 8080, "HTTP port; 0 picks an ephemeral port");
ABSL_FLAG(int, workers, 4, "worker processes");
ABSL_FLAG(int, metrics_port, 9464,
          "port of the parent's GET /metrics (Prometheus text format) on "
          "--host; 0 picks an ephemeral port");
ABSL_FLAG(int, http_threads, 8, "request threads per worker");
ABSL_FLAG(std::string, config, "",
          "runtime config JSON file, re-read when it changes; empty: the "
          "embedded default");
ABSL_FLAG(std::string, firewall_lists, "",
          "firewall lists JSON file, re-read when it changes; empty: the "
          "embedded default");
// Durations are string flags ("100ms", "1.5s") parsed by absl::ParseDuration:
// an absl::Duration flag is read through a sequence lock whose fence GCC
// refuses to compile under -fsanitize=thread (-Werror=tsan).
ABSL_FLAG(std::string, settings_check_interval, "1s",
          "how often the settings files are checked for changes");
ABSL_FLAG(std::string, stats_interval, "10s",
          "how often the parent prints the workers' statistics");
ABSL_FLAG(std::string, agent_polling_interval, "10s",
          "how often workers ask the parent for new settings");
ABSL_FLAG(std::string, agent_polling_jitter, "10s",
          "workers' first settings poll comes after up to this long");
ABSL_FLAG(std::string, agent_flush_interval, "10s",
          "how often workers send their events to the parent");
ABSL_FLAG(int64_t, rate_limit_zone_bytes,
          static_cast<int64_t>(zen::RateLimitZoneOptions().bytes),
          "size of the rate-limit windows the parent shares with the "
          "workers, which decide rate limits there without asking it; 0: "
          "none (every worker asks the parent)");
ABSL_FLAG(bool, self_test, false,
          "run the self-test: ephemeral port, embedded settings, short agent "
          "intervals, load and a settings change; exit 0 iff every check "
          "holds");

namespace zen::examples {
namespace {

// Lets `--self-test` spell `--self_test`: Abseil flag names are
// identifiers, command lines conventionally use dashes.
void AcceptDashesInFlagNames(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    char* arg = argv[i];
    if (std::strcmp(arg, "--") == 0) return;
    if (std::strncmp(arg, "--", 2) != 0) continue;
    for (char* c = arg + 2; *c != '\0' && *c != '='; ++c) {
      if (*c == '-') *c = '_';
    }
  }
}

// The duration in a string flag; exits with a message if it is not one.
absl::Duration DurationFlag(const absl::Flag<std::string>& flag,
                            const char* name) {
  const std::string text = absl::GetFlag(flag);
  absl::Duration duration;
  if (!absl::ParseDuration(text, &duration) ||
      duration < absl::ZeroDuration()) {
    std::fprintf(stderr, "prefork_server: --%s: not a duration: '%s'\n", name,
                 text.c_str());
    std::exit(2);
  }
  return duration;
}

// The library's log lines, marked with the process they come from (the
// parent and every worker share stderr). One write(2) per line.
void LogToStderrWithPid(LogLevel level, absl::string_view message) {
  if (level < LogLevel::kWarning) return;
  const std::string line =
      absl::StrCat("prefork_server[", ::getpid(), "]: ", message, "\n");
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

int Main() {
  const bool self_test = absl::GetFlag(FLAGS_self_test);
  // Every flag is checked before anything starts.
  const absl::Duration polling_interval =
      DurationFlag(FLAGS_agent_polling_interval, "agent_polling_interval");
  const absl::Duration polling_jitter =
      DurationFlag(FLAGS_agent_polling_jitter, "agent_polling_jitter");
  const absl::Duration flush_interval =
      DurationFlag(FLAGS_agent_flush_interval, "agent_flush_interval");
  const absl::Duration settings_every =
      DurationFlag(FLAGS_settings_check_interval, "settings_check_interval");
  const absl::Duration stats_every =
      self_test ? absl::Seconds(1)
                : DurationFlag(FLAGS_stats_interval, "stats_interval");
  const int64_t zone_bytes = absl::GetFlag(FLAGS_rate_limit_zone_bytes);
  if (zone_bytes < 0) {
    std::fprintf(stderr,
                 "prefork_server: --rate_limit_zone_bytes: must not be "
                 "negative\n");
    return 2;
  }

  // Before any thread starts, so that every thread (and every worker)
  // leaves these signals to the supervisor's sigtimedwait.
  BlockSupervisorSignals();
  SetLogSink(LogToStderrWithPid);

  absl::StatusOr<ipc::UniqueFd> listener = ListenTcp(
      absl::GetFlag(FLAGS_host),
      self_test ? 0 : static_cast<uint16_t>(absl::GetFlag(FLAGS_port)));
  if (!listener.ok()) {
    std::fprintf(stderr, "prefork_server: %s\n",
                 listener.status().ToString().c_str());
    return 1;
  }
  const int listen_fd = listener->get();
  const uint16_t port = BoundPort(listen_fd).value_or(0);

  AgentOptions agent_options;
  // A worker must not outlive the supervisor: it would go on serving with
  // nobody to stop it. SIGTERM is the workers' clean stop.
  agent_options.exit_with_parent = true;
  agent_options.exit_with_parent_signal = SIGTERM;
  agent_options.rate_limit_zone.bytes = static_cast<size_t>(zone_bytes);
  AgentClientOptions& client = agent_options.client;
  client.polling_interval = polling_interval;
  client.polling_jitter = polling_jitter;
  client.flush_interval = flush_interval;
  if (self_test) {
    // Settings arrive by watch_settings (the default), not by polls; only
    // the event flush is hurried, so the run can check the parent's counts.
    client.flush_interval = absl::Milliseconds(200);
  }
  // Made before the Agent because its callback goes into the options every
  // worker inherits; each worker records into its own copy.
  auto metrics = std::make_unique<WorkerMetrics>();
  client.on_settings =
      [m = metrics.get()](std::shared_ptr<const RuntimeSettings> settings) {
        m->OnSettingsApplied(std::move(settings));
      };
  absl::StatusOr<std::unique_ptr<Agent>> agent =
      Agent::Create(std::move(agent_options));
  if (!agent.ok()) {
    std::fprintf(stderr, "prefork_server: agent: %s\n",
                 agent.status().ToString().c_str());
    return 1;
  }
  AgentServer* agent_server = (*agent)->server();

  SettingsSource settings(self_test ? "" : absl::GetFlag(FLAGS_config),
                          self_test ? "" : absl::GetFlag(FLAGS_firewall_lists));
  // A server must not start without its first settings.
  if (absl::Status pushed = settings.PushChanges(agent_server); !pushed.ok()) {
    std::fprintf(stderr, "prefork_server: settings: %s\n",
                 pushed.ToString().c_str());
    return 1;
  }

  // The parent's own endpoint: the workers serve the application's port.
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> metrics_endpoint =
      MetricsEndpoint::Start(
          absl::GetFlag(FLAGS_host),
          self_test ? 0
                    : static_cast<uint16_t>(absl::GetFlag(FLAGS_metrics_port)),
          agent_server);
  if (!metrics_endpoint.ok()) {
    std::fprintf(stderr, "prefork_server: metrics: %s\n",
                 metrics_endpoint.status().ToString().c_str());
    return 1;
  }

  const int workers = absl::GetFlag(FLAGS_workers);
  std::printf(
      "prefork_server: pid %d, http://%s:%u/, %d workers, agent "
      "server on %s:%u, metrics on http://%s:%u%s\n",
      static_cast<int>(::getpid()), absl::GetFlag(FLAGS_host).c_str(),
      static_cast<unsigned>(port), workers, agent_server->host().c_str(),
      static_cast<unsigned>(agent_server->port()),
      absl::GetFlag(FLAGS_host).c_str(),
      static_cast<unsigned>((*metrics_endpoint)->port()), kMetricsPath);
  std::fflush(stdout);

  WorkerOptions worker_options;
  worker_options.parent_only_fd = (*metrics_endpoint)->fd();
  worker_options.supervisor_pid = ::getpid();
  worker_options.http_threads =
      static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_http_threads)));

  RunTotals totals;
  absl::Time next_settings_check = zen::Now() + settings_every;
  absl::Time next_stats = zen::Now() + stats_every;
  // The self-test bounds its own phases; this is the backstop.
  const absl::Time self_test_deadline = zen::Now() + absl::Seconds(27);
  Supervisor* running = nullptr;
  auto periodic_work = [&] {
    const absl::Time now = zen::Now();
    if (self_test && now >= self_test_deadline && running != nullptr) {
      running->RequestStop();
    }
    if (now >= next_settings_check) {
      next_settings_check = now + settings_every;
      if (absl::Status pushed = settings.PushChanges(agent_server);
          !pushed.ok()) {
        LogWarning("settings not updated: ", pushed.ToString());
      }
    }
    if (now >= next_stats) {
      next_stats = now + stats_every;
      const CollectorStats period = agent_server->collector().Flush();
      totals.Add(period);
      std::printf("%s\n", FormatPeriod(period, totals).c_str());
      std::fflush(stdout);
    }
  };

  SupervisorOptions supervisor_options;
  supervisor_options.workers = workers;
  supervisor_options.on_tick = periodic_work;
  Agent* const agent_ptr = agent->get();
  WorkerMetrics* const metrics_ptr = metrics.get();
  Supervisor supervisor(
      std::move(supervisor_options),
      [&worker_options, agent_ptr, metrics_ptr, listen_fd](int /*slot*/) {
        return RunWorker(worker_options, agent_ptr, metrics_ptr, listen_fd);
      });

  running = &supervisor;
  std::unique_ptr<SelfTest> test;
  if (self_test) {
    SelfTestOptions test_options;
    test_options.workers = workers;
    test =
        std::make_unique<SelfTest>(test_options, agent_ptr, &supervisor, port);
    test->Start();
  }
  absl::Status ran = supervisor.Run();
  if (!ran.ok()) {
    std::fprintf(stderr, "prefork_server: %s\n", ran.ToString().c_str());
  }

  bool ok = ran.ok();
  if (test != nullptr) {
    ok = test->Finish(&totals) && ok;
  } else {
    const CollectorStats period = agent_server->collector().Flush();
    totals.Add(period);
    std::printf("%s\nprefork_server: stopped\n",
                FormatPeriod(period, totals).c_str());
  }
  metrics_endpoint->reset();  // Before the server it reads.
  agent->reset();  // Stops the agent server after every worker is gone.
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace zen::examples

int main(int argc, char** argv) {
  zen::examples::AcceptDashesInFlagNames(argc, argv);
  absl::SetProgramUsageMessage(
      "a pre-forking HTTP server using the worker-process agent\n"
      "  prefork_server [--port=8080] [--workers=4] [--config=FILE] "
      "[--firewall-lists=FILE]\n"
      "  prefork_server --self-test\n"
      "(flag names may be written with dashes or underscores)");
  absl::ParseCommandLine(argc, argv);
  return zen::examples::Main();
}
