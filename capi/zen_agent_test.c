/* The C ABI from C (compiled -std=c99 -Wall -Wextra -Werror), against the
 * shared library itself: a parent and four forked workers call it as a
 * pre-forking host does. Exactly N of the workers' requests are admitted
 * under a limit of N (the parent's own request, asked in process, is the
 * next one and throttled), a settings change reaches every worker, the
 * workers' events are folded in the parent's heartbeat, parent-only calls
 * refuse in a worker, and the attack-wave, metrics and stats calls answer
 * in the parent. */
#define _POSIX_C_SOURCE 200809L

#include "zen/zen_agent.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capi/c_test_util.h"

#define WORKERS 4
#define ATTEMPTS_PER_WORKER 8
#define LIMIT 10
#define EVENTS_PER_WORKER 5

static const char kLimitedConfig[] =
    "{\"endpoints\":[{\"method\":\"GET\",\"route\":\"/limited\","
    "\"rateLimiting\":{\"enabled\":true,\"maxRequests\":10,"
    "\"windowSizeInMS\":60000}}]}";
static const char kChangedConfig[] =
    "{\"endpoints\":[{\"method\":\"GET\",\"route\":\"/limited\","
    "\"rateLimiting\":{\"enabled\":true,\"maxRequests\":3,"
    "\"windowSizeInMS\":60000}}]}";
static const char kClientIp[] = "203.0.113.7";

/* ---- The worker ---------------------------------------------------- */

static int64_t worker_rate_limits(zen_agent* agent) {
  int64_t admitted = 0;
  int i;
  for (i = 0; i < ATTEMPTS_PER_WORKER; ++i) {
    zen_rate_limit r;
    char* msg = NULL;
    const zen_status s =
        zen_agent_rate_limit(agent, "GET", 3, "/limited", 8, kClientIp,
                             strlen(kClientIp), NULL, 0, &r, &msg);
    if (s != ZEN_OK) {
      fprintf(stderr, "worker %d: rate_limit: %s %s\n", (int)getpid(),
              zen_status_name(s), msg != NULL ? msg : "");
      zen_free(msg);
      return -1;
    }
    if (r.applies != 1 || r.from_parent != 1 || r.max_requests != LIMIT ||
        r.discriminator == NULL || r.discriminator_len != strlen(kClientIp) ||
        strcmp(r.discriminator, kClientIp) != 0) {
      fprintf(stderr, "worker %d: unexpected answer\n", (int)getpid());
      zen_free(r.discriminator);
      return -1;
    }
    if (!r.throttled) ++admitted;
    zen_free(r.discriminator);
  }
  return admitted;
}

/* 1 once this worker applied config generation `want` and its text is the
 * changed document; 0 if not within WAIT_MS. */
static int64_t worker_sees_settings(zen_agent* agent, int64_t want) {
  const int64_t deadline = now_ms() + WAIT_MS;
  while (now_ms() < deadline) {
    int64_t config = 0, lists = 0;
    if (zen_agent_settings_generations(agent, &config, &lists, NULL) ==
            ZEN_OK &&
        config == want) {
      char* text = NULL;
      size_t len = 0;
      int64_t seen = 0;
      if (zen_agent_config_json(agent, &text, &len, NULL) == ZEN_OK &&
          text != NULL && len == strlen(kChangedConfig) &&
          memcmp(text, kChangedConfig, len) == 0) {
        seen = 1;
      }
      zen_free(text);
      return seen;
    }
    sleep_ms(1);
  }
  return 0;
}

/* Tracks this worker's events and flushes them; also checks what a worker
 * may not do. Returns 1 when all went as expected. */
static int64_t worker_events(zen_agent* agent) {
  static const char kArray[] =
      "[{\"type\":\"track_request\"},{\"type\":\"track_request\"}]";
  static const char kOne[] = "{\"type\":\"track_request\"}";
  int ok = 1;
  int i;
  char* msg = NULL;
  if (zen_agent_track(agent, kArray, strlen(kArray), NULL) != ZEN_OK) ok = 0;
  for (i = 2; i < EVENTS_PER_WORKER; ++i) {
    if (zen_agent_track(agent, kOne, strlen(kOne), NULL) != ZEN_OK) ok = 0;
  }
  if (zen_agent_flush(agent, NULL) != ZEN_OK) ok = 0;
  if (zen_agent_is_parent(agent) != 0) ok = 0;
  if (zen_agent_parent_alive(agent) != 1) ok = 0;
  /* Parent-only calls refuse politely in a worker. */
  if (zen_agent_update_config(agent, "{}", 2, &msg) !=
          ZEN_FAILED_PRECONDITION ||
      msg == NULL || strstr(msg, "zen_agent_update_config") == NULL) {
    ok = 0;
  }
  zen_free(msg);
  if (zen_agent_metrics(agent, &msg, NULL, NULL) != ZEN_FAILED_PRECONDITION) {
    ok = 0;
  }
  zen_free(msg);
  return ok;
}

static void run_worker(zen_agent* agent, int cmd_fd, int result_fd) {
  int64_t cmd = 0;
  alarm(60); /* Whatever happens, this worker does not outlive the test. */
  if (read_i64(cmd_fd, &cmd) != 0) _exit(2);
  write_i64(result_fd, worker_rate_limits(agent));
  if (read_i64(cmd_fd, &cmd) != 0) _exit(3);
  write_i64(result_fd, worker_sees_settings(agent, cmd));
  if (read_i64(cmd_fd, &cmd) != 0) _exit(4);
  write_i64(result_fd, worker_events(agent));
  _exit(zen_agent_stop(agent, NULL) == ZEN_OK ? 0 : 5);
}

/* ---- The parent ---------------------------------------------------- */

static pid_t pids[WORKERS];
static int cmd_fds[WORKERS];
static int result_fds[WORKERS];

static void send_all(int64_t cmd) {
  int i;
  for (i = 0; i < WORKERS; ++i) CHECK(write_i64(cmd_fds[i], cmd) == 0);
}

/* Sums one answer from every worker; fails on a missing one. */
static int64_t sum_answers(void) {
  int64_t sum = 0;
  int i;
  for (i = 0; i < WORKERS; ++i) {
    int64_t value = 0;
    if (read_i64(result_fds[i], &value) != 0) {
      fprintf(stderr, "worker %d did not answer\n", i);
      ++failures;
      continue;
    }
    sum += value;
  }
  return sum;
}

/* Waits for every worker to exit and checks each exited 0. */
static void reap_workers(void) {
  int i;
  for (i = 0; i < WORKERS; ++i) {
    const int status = reap(pids[i]);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(cmd_fds[i]);
    close(result_fds[i]);
  }
}

/* The heartbeat's stats.requests.total; -1 if the document lacks it. */
static int64_t heartbeat_requests(zen_agent* agent, int start_new_period) {
  static const char kKey[] = "\"requests\":{\"total\":";
  char* doc = NULL;
  size_t len = 0;
  int64_t total = -1;
  char* msg = NULL;
  EXPECT_STATUS(
      zen_agent_heartbeat(agent, start_new_period, NULL, 0, &doc, &len, &msg),
      ZEN_OK);
  if (doc != NULL) {
    const char* at = strstr(doc, kKey);
    CHECK(strlen(doc) == len);
    if (at != NULL) total = strtoll(at + strlen(kKey), NULL, 10);
  }
  zen_free(doc);
  return total;
}

static void fork_workers(zen_agent* agent) {
  int i;
  for (i = 0; i < WORKERS; ++i) {
    int cmd[2], result[2];
    if (pipe(cmd) != 0 || pipe(result) != 0) {
      perror("pipe");
      exit(1);
    }
    fflush(NULL);
    zen_testing_before_fork();
    pids[i] = fork();
    if (pids[i] < 0) {
      perror("fork");
      exit(1);
    }
    if (pids[i] == 0) {
      zen_testing_after_fork_in_child();
      close(cmd[1]);
      close(result[0]);
      run_worker(agent, cmd[0], result[1]);
    }
    close(cmd[0]);
    close(result[1]);
    cmd_fds[i] = cmd[1];
    result_fds[i] = result[0];
  }
}

static void test_workers(zen_agent* agent) {
  char* msg = NULL;
  int64_t config_generation = 0;
  int64_t total = -1;
  int64_t deadline = 0;
  zen_rate_limit r;

  fork_workers(agent);

  /* Exactly LIMIT of the workers' 32 requests are admitted. */
  send_all(1);
  CHECK(sum_answers() == LIMIT);
  /* The parent asks the same limiter (in process): its request is the
   * 33rd, throttled, and told when the oldest slot frees. */
  EXPECT_STATUS(zen_agent_rate_limit(agent, "GET", 3, "/limited", 8, kClientIp,
                                     strlen(kClientIp), NULL, 0, &r, &msg),
                ZEN_OK);
  CHECK(r.applies == 1 && r.throttled == 1 && r.from_parent == 1);
  CHECK(r.current_requests == LIMIT && r.max_requests == LIMIT);
  CHECK(r.time_remaining_seconds >= 1 && r.time_remaining_seconds <= 60);
  zen_free(r.discriminator);
  /* A route without a limit: applies is 0 and nothing to free. */
  EXPECT_STATUS(zen_agent_rate_limit(agent, "GET", 3, "/free", 5, kClientIp,
                                     strlen(kClientIp), "u1", 2, &r, &msg),
                ZEN_OK);
  CHECK(r.applies == 0 && r.discriminator == NULL && r.max_requests == 0);

  /* A settings change reaches every worker. */
  EXPECT_STATUS(zen_agent_update_config(agent, kChangedConfig,
                                        strlen(kChangedConfig), &msg),
                ZEN_OK);
  EXPECT_STATUS(
      zen_agent_settings_generations(agent, &config_generation, NULL, &msg),
      ZEN_OK);
  CHECK(config_generation == 2);
  send_all(config_generation);
  CHECK(sum_answers() == WORKERS);

  /* Every worker's events are folded into the parent's heartbeat. */
  send_all(3);
  CHECK(sum_answers() == WORKERS);
  reap_workers();
  /* The parent acknowledges a batch before it folds it: wait for it. */
  deadline = now_ms() + WAIT_MS;
  while ((total = heartbeat_requests(agent, 0)) !=
             WORKERS * EVENTS_PER_WORKER &&
         now_ms() < deadline) {
    sleep_ms(2);
  }
  CHECK(total == WORKERS * EVENTS_PER_WORKER);
  CHECK(heartbeat_requests(agent, 1) == WORKERS * EVENTS_PER_WORKER);
  CHECK(heartbeat_requests(agent, 0) == 0); /* A new period began. */
}

static void test_parent_calls(zen_agent* agent) {
  char* msg = NULL;
  char* text = NULL;
  size_t len = 0;
  int32_t from_parent = 0;
  int i;
  CHECK(strcmp(zen_agent_version(), ZEN_AGENT_VERSION_STRING) == 0);
  CHECK(strcmp(zen_status_name(ZEN_UNAVAILABLE), "UNAVAILABLE") == 0);
  CHECK(strcmp(zen_status_name((zen_status)99), "UNKNOWN") == 0);
  CHECK(zen_agent_is_parent(agent) == 1 && zen_agent_parent_alive(agent) == 1);
  EXPECT_STATUS(zen_agent_mark_middleware_installed(agent, &msg), ZEN_OK);
  EXPECT_STATUS(zen_agent_metrics(agent, &text, &len, &msg), ZEN_OK);
  CHECK(text != NULL && strstr(text, "zen_agent_server_calls_total") != NULL);
  zen_free(text);
  EXPECT_STATUS(zen_agent_stats_json(agent, &text, &len, &msg), ZEN_OK);
  CHECK(text != NULL && strstr(text, "\"is_parent\":true") != NULL &&
        strstr(text, "\"server\":{") != NULL);
  zen_free(text);
  /* The 15th probe from one IP completes a wave (the reference's
   * threshold), answered with the samples. */
  for (i = 1; i <= 15; ++i) {
    text = NULL;
    EXPECT_STATUS(zen_agent_record_attack_wave(agent, "198.51.100.9", 12, "GET",
                                               3, "/.env", 5, &text, &len,
                                               &from_parent, &msg),
                  ZEN_OK);
    CHECK(from_parent == 1);
    CHECK((i < 15) == (text == NULL));
    if (i == 15) {
      CHECK(text != NULL &&
            strcmp(text, "[{\"method\":\"GET\",\"url\":\"/.env\"}]") == 0);
    }
    zen_free(text);
  }
}

int main(void) {
  zen_agent* agent = NULL;
  char* msg = NULL;
  static const char kOptions[] = "{\"client\":{\"flush_interval_ms\":60000}}";

  EXPECT_STATUS(zen_agent_create(kOptions, strlen(kOptions), &agent, &msg),
                ZEN_OK);
  if (agent == NULL) return finish();
  EXPECT_STATUS(zen_agent_update_config(agent, kLimitedConfig,
                                        strlen(kLimitedConfig), &msg),
                ZEN_OK);
  test_parent_calls(agent);
  test_workers(agent);
  EXPECT_STATUS(zen_agent_stop(agent, &msg), ZEN_OK);
  zen_agent_destroy(agent);
  return finish();
}
