#include "testing/agent/rate_limit_zone_kill_run.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/model/rate_limit_zone.h"

namespace zen {
namespace {

// One admission: the `now` the worker passed and the clock when the check
// returned. The zone decided at some time between the two.
struct Admission {
  uint32_t key;
  uint32_t reserved;
  int64_t at_ns;
  int64_t returned_ns;
};

int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// The worker: checks until killed. Key `keys` is the hot one.
[[noreturn]] void WorkerLoop(RateLimitZone& zone,
                             const ZoneKillRunOptions& options, int log_fd,
                             uint32_t seed) {
  std::mt19937 random(seed);
  const int64_t window_ns = absl::ToInt64Nanoseconds(options.window);
  char key[16];
  for (;;) {
    const uint32_t id =
        random() % 2 == 0 ? options.keys : random() % options.keys;
    const int length = std::snprintf(key, sizeof(key), "key-%u", id);
    const int64_t now = MonotonicNanos();
    ZoneCount count;
    if (zone.Count(absl::string_view(key, length), window_ns, options.limit,
                   now, &count) == ZoneOutcome::kCounted &&
        !count.throttled) {
      const Admission admission{id, 0, now, MonotonicNanos()};
      if (write(log_fd, &admission, sizeof(admission)) != sizeof(admission)) {
        _exit(3);
      }
    }
  }
}

struct Worker {
  pid_t pid = -1;
  int log_fd = -1;
  int64_t kill_at_ns = 0;
};

// Appends what `fd` holds now (all of it once the writer is gone).
void Drain(int fd, std::vector<Admission>* log) {
  Admission batch[256];
  for (;;) {
    const ssize_t got = read(fd, batch, sizeof(batch));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return;
    log->insert(log->end(), batch, batch + got / sizeof(Admission));
  }
}

}  // namespace

ZoneKillRunResult RunZoneKillRun(const ZoneKillRunOptions& options) {
  ZoneKillRunResult result;
  RateLimitZoneOptions zone_options;
  // Room for every key, so that only expiry (never eviction) forgets.
  zone_options.bytes = size_t{256} << 10;
  zone_options.max_requests_per_window = 16;
  zone_options.lock_timeout = absl::Seconds(2);
  absl::StatusOr<std::unique_ptr<RateLimitZone>> created =
      RateLimitZone::Create(zone_options);
  if (!created.ok()) {
    result.problem = created.status().ToString();
    return result;
  }
  RateLimitZone& zone = **created;
  std::mt19937 random(options.seed);
  const int64_t min_life = absl::ToInt64Nanoseconds(options.min_life);
  const int64_t life_span = std::max<int64_t>(
      1, absl::ToInt64Nanoseconds(options.max_life) - min_life);
  std::vector<Admission> log;
  std::vector<Worker> workers(options.workers);
  auto spawn = [&](Worker& worker) -> bool {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return false;
    const uint32_t seed = random();
    const pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
      close(fds[0]);
      WorkerLoop(zone, options, fds[1], seed);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    worker.pid = pid;
    worker.log_fd = fds[0];
    worker.kill_at_ns = MonotonicNanos() + min_life + random() % life_span;
    return true;
  };
  auto end = [&](Worker& worker) {
    kill(worker.pid, SIGKILL);
    while (waitpid(worker.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    fcntl(worker.log_fd, F_SETFL, 0);  // blocking: read to the end
    Drain(worker.log_fd, &log);
    close(worker.log_fd);
    worker.pid = -1;
  };
  const int64_t start = MonotonicNanos();
  const int64_t stop = start + absl::ToInt64Nanoseconds(options.time_limit);
  bool spawned_all = true;
  for (Worker& worker : workers) spawned_all = spawned_all && spawn(worker);
  while (spawned_all && result.kills < options.kills &&
         MonotonicNanos() < stop) {
    for (Worker& worker : workers) {
      Drain(worker.log_fd, &log);
      if (MonotonicNanos() < worker.kill_at_ns) continue;
      end(worker);
      ++result.kills;
      if (!spawn(worker)) spawned_all = false;
    }
    const timespec pause{0, 50000};
    nanosleep(&pause, nullptr);
  }
  for (Worker& worker : workers) {
    if (worker.pid > 0) end(worker);
  }
  result.elapsed = absl::Nanoseconds(MonotonicNanos() - start);
  result.admissions_logged = log.size();
  if (!spawned_all) {
    result.problem = absl::StrCat("fork or pipe failed: ", strerror(errno));
    return result;
  }
  // No window admitted more than the limit: per key, any limit + 1
  // admissions span at least the window. Workers' clock readings race (one
  // may read its `now` before another that takes the lock first), and the
  // windows' semantics are exact in the order the lock serializes, so a
  // span is measured as widely as the readings allow: from the first one's
  // `now` to the latest return among them.
  std::sort(log.begin(), log.end(), [](const Admission& a, const Admission& b) {
    return a.key != b.key ? a.key < b.key : a.at_ns < b.at_ns;
  });
  const int64_t window_ns = absl::ToInt64Nanoseconds(options.window);
  for (size_t i = 0; i + options.limit < log.size(); ++i) {
    const Admission& first = log[i];
    const Admission& last = log[i + options.limit];
    if (first.key != last.key) continue;
    int64_t latest_return = first.returned_ns;
    for (size_t j = i; j <= i + options.limit; ++j) {
      latest_return = std::max(latest_return, log[j].returned_ns);
    }
    if (latest_return - first.at_ns < window_ns) {
      result.problem = absl::StrCat(
          "key ", first.key, ": ", options.limit + 1, " admissions within ",
          latest_return - first.at_ns, " ns, window ", window_ns, " ns");
      return result;
    }
  }
  // No key stuck: each answers (the dead are gone, so no lock is held by
  // anyone that can keep it), and the invariants hold.
  for (int id = 0; id <= options.keys; ++id) {
    ZoneCount count;
    const std::string key = absl::StrCat("key-", id);
    if (zone.Count(key, window_ns, options.limit, MonotonicNanos(), &count) !=
        ZoneOutcome::kCounted) {
      result.problem = absl::StrCat(key, " is stuck");
      return result;
    }
  }
  if (!zone.CheckInvariants(&result.problem)) return result;
  result.recoveries = zone.recoveries();
  result.ok = true;
  return result;
}

}  // namespace zen
