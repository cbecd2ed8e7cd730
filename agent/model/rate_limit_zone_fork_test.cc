// The zone across forked processes: one limit shared by every worker, and
// workers SIGKILLed at random points inside their checks.
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/model/rate_limit_zone.h"
#include "agent/model/zone_lock.h"
#include "gtest/gtest.h"
#include "testing/agent/rate_limit_zone_kill_run.h"

namespace zen {
namespace {

int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// `workers` processes each check `per_worker` times against one limit of
// `limit` per minute; returns how many they admitted together.
int AdmittedAcrossWorkers(int workers, int per_worker, int64_t limit) {
  absl::StatusOr<std::unique_ptr<RateLimitZone>> zone =
      RateLimitZone::Create(RateLimitZoneOptions());
  EXPECT_TRUE(zone.ok()) << zone.status();
  if (!zone.ok()) return -1;
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  std::vector<pid_t> pids;
  for (int w = 0; w < workers; ++w) {
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      int admitted = 0;
      for (int i = 0; i < per_worker; ++i) {
        ZoneCount count;
        const ZoneOutcome outcome = (*zone)->Count(
            "POST\0/login\0ip\0198.51.100.7", int64_t{60} * 1000000000, limit,
            MonotonicNanos(), &count);
        if (outcome != ZoneOutcome::kCounted) _exit(2);
        admitted += count.throttled ? 0 : 1;
      }
      _exit(write(fds[1], &admitted, sizeof(admitted)) == sizeof(admitted) ? 0
                                                                           : 3);
    }
    EXPECT_GT(pid, 0);
    if (pid > 0) pids.push_back(pid);
  }
  close(fds[1]);
  int total = 0;
  for (pid_t pid : pids) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  int admitted = 0;
  while (read(fds[0], &admitted, sizeof(admitted)) == sizeof(admitted)) {
    total += admitted;
  }
  close(fds[0]);
  std::string problem;
  EXPECT_TRUE((*zone)->CheckInvariants(&problem)) << problem;
  return total;
}

TEST(RateLimitZoneForkTest, FourWorkersAdmitExactlyTheLimitTogether) {
  EXPECT_EQ(AdmittedAcrossWorkers(4, 2000, 100), 100);
}

TEST(RateLimitZoneForkTest, EightWorkersAdmitExactlyTheLimitTogether) {
  EXPECT_EQ(AdmittedAcrossWorkers(8, 1000, 37), 37);
}

TEST(RateLimitZoneForkTest, ALockHeldByADeadProcessIsTakenOver) {
  absl::StatusOr<std::unique_ptr<RateLimitZone>> zone =
      RateLimitZone::Create(RateLimitZoneOptions());
  ASSERT_TRUE(zone.ok());
  ZoneCount count;
  ASSERT_EQ((*zone)->Count("k", 1000000000, 1, MonotonicNanos(), &count),
            ZoneOutcome::kCounted);
  // A child takes the lock word as Count would, then dies holding it.
  const pid_t pid = fork();
  if (pid == 0) {
    auto* word = reinterpret_cast<uint64_t*>((*zone)->image());
    _exit(AcquireZoneLock(word, absl::Seconds(1)) == ZoneLockResult::kAcquired
              ? 0
              : 1);
  }
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ((*zone)->Count("k", 1000000000, 1, MonotonicNanos(), &count),
            ZoneOutcome::kCounted);
  EXPECT_TRUE(count.throttled);  // the history survived the takeover
  EXPECT_EQ((*zone)->recoveries(), 1u);
}

TEST(RateLimitZoneForkTest, ALockHeldByALiveProcessTimesOut) {
  RateLimitZoneOptions options;
  options.lock_timeout = absl::Milliseconds(20);
  absl::StatusOr<std::unique_ptr<RateLimitZone>> zone =
      RateLimitZone::Create(options);
  ASSERT_TRUE(zone.ok());
  // This process's own id in the word, as a stuck or hostile holder.
  auto* word = reinterpret_cast<uint64_t*>((*zone)->image());
  __atomic_store_n(word, ZoneLockOwnerId(), __ATOMIC_RELEASE);
  ZoneCount count;
  EXPECT_EQ((*zone)->Count("k", 1000000000, 1, MonotonicNanos(), &count),
            ZoneOutcome::kBusy);
  __atomic_store_n(word, uint64_t{0}, __ATOMIC_RELEASE);
  EXPECT_EQ((*zone)->Count("k", 1000000000, 1, MonotonicNanos(), &count),
            ZoneOutcome::kCounted);
}

TEST(ZoneLockTest, TellsLiveFromDeadZombieAndReaped) {
  EXPECT_FALSE(ZoneLockOwnerIsDead(ZoneLockOwnerId()));
  // The low half is the start time in clock ticks since boot, never 0 for
  // a process started after the first tick (as this one was).
  EXPECT_NE(static_cast<uint32_t>(ZoneLockOwnerId()), 0u);
  int id_pipe[2];
  int hold_pipe[2];
  ASSERT_EQ(pipe(id_pipe), 0);
  ASSERT_EQ(pipe(hold_pipe), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    // The child's own id, then it lives until the parent closes hold_pipe.
    close(hold_pipe[1]);
    const uint64_t id = ZoneLockOwnerId();
    char byte;
    _exit(write(id_pipe[1], &id, sizeof(id)) == sizeof(id) &&
                  read(hold_pipe[0], &byte, 1) == 0
              ? 0
              : 1);
  }
  ASSERT_GT(pid, 0);
  close(id_pipe[1]);
  close(hold_pipe[0]);
  uint64_t child_id = 0;
  ASSERT_EQ(read(id_pipe[0], &child_id, sizeof(child_id)), sizeof(child_id));
  close(id_pipe[0]);
  EXPECT_NE(child_id, ZoneLockOwnerId());  // recomputed after fork
  EXPECT_EQ(static_cast<pid_t>(child_id >> 32), pid);
  EXPECT_FALSE(ZoneLockOwnerIsDead(child_id));
  // The same pid with another start time is another process.
  EXPECT_TRUE(ZoneLockOwnerIsDead(child_id ^ 1));
  close(hold_pipe[1]);  // the child exits; unreaped, it is a zombie
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), 0);
  EXPECT_TRUE(ZoneLockOwnerIsDead(child_id));
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(ZoneLockOwnerIsDead(child_id));
}

TEST(RateLimitZoneForkTest, WorkersKilledAtRandomPointsBreakNoWindow) {
  ZoneKillRunOptions options;
  options.kills = 1000;
  options.time_limit = absl::Seconds(40);
  const ZoneKillRunResult result = RunZoneKillRun(options);
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_GE(result.kills, 500) << "too few kills in the time limit";
  EXPECT_GT(result.admissions_logged, 0u);
  std::printf("%d kills, %llu admissions, %llu lock takeovers in %s\n",
              result.kills,
              static_cast<unsigned long long>(result.admissions_logged),
              static_cast<unsigned long long>(result.recoveries),
              absl::FormatDuration(result.elapsed).c_str());
}

}  // namespace
}  // namespace zen
