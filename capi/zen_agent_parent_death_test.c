/* A worker whose parent died, through the C ABI from C (-std=c99): the
 * process that created the agent forks a worker that connects, then exits
 * without a word. The worker sees zen_agent_parent_alive() turn 0, its
 * flush fail fast with UNAVAILABLE (the bindings' "master died" error),
 * and its rate-limit questions decided by its own limiter at once
 * (from_parent 0) under the settings it had.
 *
 * This test process is a child subreaper, so the orphaned worker is
 * re-parented to it and reaped here. */
#define _GNU_SOURCE /* prctl's PR_SET_CHILD_SUBREAPER */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capi/c_test_util.h"
#include "zen/zen_agent.h"

static const char kLimitedConfig[] =
    "{\"endpoints\":[{\"method\":\"GET\",\"route\":\"/limited\","
    "\"rateLimiting\":{\"enabled\":true,\"maxRequests\":10,"
    "\"windowSizeInMS\":60000}}]}";
/* A call timeout far above what failing fast takes, so a worker that
 * waited for it instead would be seen. No rate-limit zone: an orphan would
 * still decide in it (its siblings share it), and this test is about the
 * worker's own limiter taking over. */
static const char kOptions[] =
    "{\"client\":{\"call_timeout_ms\":30000,\"parent_check_interval_ms\":50},"
    "\"rate_limit_zone\":{\"enabled\":false}}";

enum { kFlushUnavailable = 1, kFlushFast = 2, kLocalDecision = 4 };

/* The orphan-to-be: connects, tells its parent, waits for it to die, then
 * reports what its calls answered. */
static void run_worker(zen_agent* agent, int ready_fd, int report_fd) {
  int64_t outcome = 0;
  int64_t started = 0;
  int64_t deadline = 0;
  zen_status flushed = ZEN_OK;
  zen_rate_limit r;
  alarm(60);
  if (zen_agent_poll_settings(agent, NULL) != ZEN_OK) _exit(2);
  write_i64(ready_fd, 1);
  deadline = now_ms() + WAIT_MS;
  while (zen_agent_parent_alive(agent) && now_ms() < deadline) sleep_ms(2);
  if (zen_agent_track(agent, "{\"type\":\"track_request\"}", 24, NULL) !=
      ZEN_OK) {
    _exit(3);
  }
  /* Until the client has seen the connection go, a flush may still find
   * it half-open; it fails either way, and from then on at once. */
  started = now_ms();
  while ((flushed = zen_agent_flush(agent, NULL)) == ZEN_OK &&
         now_ms() < deadline) {
    sleep_ms(10);
  }
  if (flushed == ZEN_UNAVAILABLE) outcome |= kFlushUnavailable;
  if (now_ms() - started < 10000) outcome |= kFlushFast;
  if (zen_agent_rate_limit(agent, "GET", 3, "/limited", 8, "192.0.2.1", 9, NULL,
                           0, &r, NULL) == ZEN_OK &&
      r.applies == 1 && r.from_parent == 0 && r.throttled == 0 &&
      r.max_requests == 10) {
    outcome |= kLocalDecision;
  }
  zen_free(r.discriminator);
  write_i64(report_fd, (int64_t)getpid());
  write_i64(report_fd, outcome);
  _exit(0);
}

/* The host's parent: creates the agent, forks the worker, waits for it to
 * connect, and exits. */
static void run_parent(int report_fd) {
  zen_agent* agent = NULL;
  int ready[2];
  int64_t connected = 0;
  pid_t worker = 0;
  alarm(60);
  if (zen_agent_create(kOptions, strlen(kOptions), &agent, NULL) != ZEN_OK ||
      zen_agent_update_config(agent, kLimitedConfig, strlen(kLimitedConfig),
                              NULL) != ZEN_OK ||
      pipe(ready) != 0) {
    _exit(2);
  }
  zen_testing_before_fork();
  worker = fork();
  if (worker < 0) _exit(3);
  if (worker == 0) {
    zen_testing_after_fork_in_child();
    close(ready[0]);
    run_worker(agent, ready[1], report_fd);
  }
  close(ready[1]);
  if (read_i64(ready[0], &connected) != 0) _exit(4);
  _exit(0); /* Dies as a crashed parent would: nothing stopped. */
}

int main(void) {
  int report[2];
  pid_t parent = 0;
  int status = 0;
  int64_t worker = 0;
  int64_t outcome = 0;
  CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
  if (pipe(report) != 0) return 1;
  fflush(NULL);
  parent = fork();
  if (parent < 0) return 1;
  if (parent == 0) {
    close(report[0]);
    run_parent(report[1]);
  }
  close(report[1]);
  status = reap(parent);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (read_i64(report[0], &worker) != 0 || read_i64(report[0], &outcome) != 0) {
    fprintf(stderr, "the orphaned worker did not report\n");
    ++failures;
  }
  CHECK(outcome & kFlushUnavailable);
  CHECK(outcome & kFlushFast);
  CHECK(outcome & kLocalDecision);
  if (worker > 0) {
    status = reap((pid_t)worker);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  /* Anything else re-parented here (nothing should be) is reaped too. */
  while (waitpid(-1, &status, WNOHANG) > 0) {
  }
  return finish();
}
