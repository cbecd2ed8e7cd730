/* The C ABI from C (compiled -std=c99 -Wall -Wextra -Werror), against the
 * shared library itself: a parent and four forked workers call it as a
 * pre-forking host does. Exactly N of the workers' requests are admitted
 * under a limit of N, a settings change reaches every worker, the workers'
 * events are folded in the parent's heartbeat; and the error paths (bad
 * options, bad documents, null arguments, parent-only calls in a worker, a
 * stopped agent) answer with a status and a message, never a crash. */
#define _POSIX_C_SOURCE 200809L

#include "zen/zen_agent.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 4
#define ATTEMPTS_PER_WORKER 8
#define LIMIT 10
#define EVENTS_PER_WORKER 5
/* Each wait for an observable state gives up after this long. */
#define WAIT_MS 20000

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* Checks that `status` is `expected`, printing the call's message if not;
 * frees the message. */
static void expect_status(zen_status status, zen_status expected, char* message,
                          const char* what, int line) {
  if (status != expected) {
    fprintf(stderr, "line %d: %s: got %s (%s), want %s\n", line, what,
            zen_status_name(status), message != NULL ? message : "-",
            zen_status_name(expected));
    ++failures;
  }
  zen_free(message);
}
#define EXPECT_STATUS(call, expected)                      \
  expect_status((call), (expected), msg, #call, __LINE__); \
  msg = NULL

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

static const char kLimitedConfig[] =
    "{\"endpoints\":[{\"method\":\"GET\",\"route\":\"/limited\","
    "\"rateLimiting\":{\"enabled\":true,\"maxRequests\":10,"
    "\"windowSizeInMS\":60000}}]}";
static const char kChangedConfig[] =
    "{\"endpoints\":[{\"method\":\"GET\",\"route\":\"/limited\","
    "\"rateLimiting\":{\"enabled\":true,\"maxRequests\":3,"
    "\"windowSizeInMS\":60000}}]}";
static const char kClientIp[] = "203.0.113.7";

static int write_i64(int fd, int64_t value) {
  return write(fd, &value, sizeof value) == (ssize_t)sizeof value ? 0 : -1;
}

/* Reads one int64 from `fd` within WAIT_MS; -1 (and a failure) if none. */
static int read_i64(int fd, int64_t* value) {
  size_t got = 0;
  const int64_t deadline = now_ms() + WAIT_MS;
  while (got < sizeof *value) {
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    const int64_t left = deadline - now_ms();
    if (left <= 0 || poll(&p, 1, (int)left) <= 0) return -1;
    const ssize_t n = read(fd, (char*)value + got, sizeof *value - got);
    if (n <= 0) return -1;
    got += (size_t)n;
  }
  return 0;
}

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

/* Waits for every worker to exit (SIGKILL past the deadline) and checks
 * each exited 0. */
static void reap_workers(void) {
  const int64_t deadline = now_ms() + WAIT_MS;
  int i;
  for (i = 0; i < WORKERS; ++i) {
    int status = 0;
    pid_t done = 0;
    while ((done = waitpid(pids[i], &status, WNOHANG)) == 0 &&
           now_ms() < deadline) {
      sleep_ms(5);
    }
    if (done == 0) {
      kill(pids[i], SIGKILL);
      waitpid(pids[i], &status, 0);
      fprintf(stderr, "worker %d killed: it did not exit\n", i);
      ++failures;
      continue;
    }
    CHECK(done == pids[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0);
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
    pids[i] = fork();
    if (pids[i] < 0) {
      perror("fork");
      exit(1);
    }
    if (pids[i] == 0) {
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

/* ---- Error paths, in the parent ------------------------------------ */

static void test_bad_options(void) {
  zen_agent* agent = (zen_agent*)&failures; /* Must be reset to NULL. */
  char* msg = NULL;
  static const char kUnknown[] = "{\"client\":{\"call_timeout\":5}}";
  static const char kNotUtf8[] = "{\"host\":\"\xff\"}";
  CHECK(zen_agent_create(kUnknown, strlen(kUnknown), &agent, &msg) ==
        ZEN_INVALID_ARGUMENT);
  CHECK(agent == NULL); /* Cleared on failure. */
  CHECK(msg != NULL && strstr(msg, "'client.call_timeout'") != NULL);
  zen_free(msg);
  msg = NULL;
  CHECK(zen_agent_create("[]", 2, &agent, NULL) == ZEN_INVALID_ARGUMENT);
  CHECK(zen_agent_create(kNotUtf8, strlen(kNotUtf8), &agent, NULL) ==
        ZEN_INVALID_ARGUMENT);
  CHECK(zen_agent_create(NULL, 5, &agent, NULL) == ZEN_INVALID_ARGUMENT);
  CHECK(zen_agent_create(NULL, 0, NULL, NULL) == ZEN_INVALID_ARGUMENT);
  CHECK(agent == NULL);
}

static void test_bad_arguments(zen_agent* agent) {
  char* msg = NULL;
  char* text = NULL;
  size_t len = 99;
  int64_t generation = -1;
  zen_rate_limit r;
  static const char kNotUtf8[] = "\xc3\x28";

  /* A document that does not parse is refused; the previous one stays. */
  EXPECT_STATUS(zen_agent_update_config(agent, "{\"endpoints\":", 13, &msg),
                ZEN_INVALID_ARGUMENT);
  EXPECT_STATUS(zen_agent_settings_generations(agent, &generation, NULL, &msg),
                ZEN_OK);
  CHECK(generation == 1);
  EXPECT_STATUS(zen_agent_config_json(agent, &text, &len, &msg), ZEN_OK);
  CHECK(text != NULL && len == strlen(kLimitedConfig) &&
        strcmp(text, kLimitedConfig) == 0);
  zen_free(text);
  text = NULL;
  EXPECT_STATUS(zen_agent_firewall_lists_json(agent, &text, &len, &msg),
                ZEN_OK);
  CHECK(text == NULL && len == 0); /* None yet. */
  EXPECT_STATUS(zen_agent_update_firewall_lists(agent, "{[", 2, &msg),
                ZEN_INVALID_ARGUMENT);

  /* Null and malformed arguments: a status, never a crash. */
  EXPECT_STATUS(zen_agent_rate_limit(NULL, "GET", 3, "/", 1, "1.2.3.4", 7, NULL,
                                     0, &r, &msg),
                ZEN_INVALID_ARGUMENT);
  EXPECT_STATUS(zen_agent_rate_limit(agent, "GET", 3, "/", 1, "1.2.3.4", 7,
                                     NULL, 0, NULL, &msg),
                ZEN_INVALID_ARGUMENT);
  EXPECT_STATUS(zen_agent_rate_limit(agent, NULL, 3, "/", 1, "1.2.3.4", 7, NULL,
                                     0, &r, &msg),
                ZEN_INVALID_ARGUMENT);
  CHECK(r.applies == 0 && r.discriminator == NULL);
  EXPECT_STATUS(zen_agent_rate_limit(agent, "GET", 3, kNotUtf8, 2, "1.2.3.4", 7,
                                     NULL, 0, &r, &msg),
                ZEN_INVALID_ARGUMENT);
  EXPECT_STATUS(zen_agent_config_json(agent, NULL, &len, &msg),
                ZEN_INVALID_ARGUMENT);
  EXPECT_STATUS(zen_agent_config_json(NULL, &text, &len, &msg),
                ZEN_INVALID_ARGUMENT);
  EXPECT_STATUS(zen_agent_update_config(agent, NULL, 4, &msg),
                ZEN_INVALID_ARGUMENT);
  EXPECT_STATUS(zen_agent_track(agent, "{\"type\":", 8, &msg),
                ZEN_INVALID_ARGUMENT);
  EXPECT_STATUS(
      zen_agent_track(agent, "{\"type\":\"track_nothing\"}", 24, &msg),
      ZEN_INVALID_ARGUMENT);
  EXPECT_STATUS(zen_agent_track(agent, "42", 2, &msg), ZEN_INVALID_ARGUMENT);
  EXPECT_STATUS(zen_agent_heartbeat(agent, 1, "[1]", 3, &text, &len, &msg),
                ZEN_INVALID_ARGUMENT);
  EXPECT_STATUS(
      zen_agent_record_attack_wave(agent, "1.2.3.4", 7, "GET", 3, "/.env", 5,
                                   NULL, NULL, NULL, &msg),
      ZEN_INVALID_ARGUMENT);
  /* A NULL message pointer is allowed everywhere. */
  CHECK(zen_agent_update_config(agent, "{", 1, NULL) == ZEN_INVALID_ARGUMENT);
  CHECK(zen_agent_is_parent(NULL) == 0);
  zen_free(NULL);
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

static void test_stop(zen_agent* agent) {
  char* msg = NULL;
  zen_rate_limit r;
  EXPECT_STATUS(zen_agent_stop(agent, &msg), ZEN_OK);
  EXPECT_STATUS(zen_agent_stop(agent, &msg), ZEN_OK);
  EXPECT_STATUS(zen_agent_rate_limit(agent, "GET", 3, "/limited", 8, "1.1.1.1",
                                     7, NULL, 0, &r, &msg),
                ZEN_CANCELLED);
  EXPECT_STATUS(zen_agent_update_config(agent, "{}", 2, &msg), ZEN_CANCELLED);
  zen_agent_destroy(agent);
  zen_agent_destroy(NULL);
}

int main(void) {
  zen_agent* agent = NULL;
  char* msg = NULL;
  static const char kOptions[] =
      "{\"client\":{\"heartbeat_interval_ms\":60000}}";

  test_bad_options();
  EXPECT_STATUS(zen_agent_create(kOptions, strlen(kOptions), &agent, &msg),
                ZEN_OK);
  if (agent == NULL) return 1;
  EXPECT_STATUS(zen_agent_update_config(agent, kLimitedConfig,
                                        strlen(kLimitedConfig), &msg),
                ZEN_OK);
  test_bad_arguments(agent);
  test_parent_calls(agent);
  test_workers(agent);
  test_stop(agent);
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("all checks passed\n");
  return 0;
}
