/* Workers forked at any moment must be able to call. A parent whose own
 * threads are busy with their first calls (the in-process client building
 * its codecs, the server answering its first workers) forks a storm of
 * workers; each makes its first calls under an alarm. A worker forked while
 * a parent thread held one of protobuf's global locks (descriptor pool,
 * lazy descriptor state, a codec's one-time initialisation) inherits that
 * lock held by a thread it does not have, and hangs on its first call: the
 * alarm turns that into a failure instead of a stuck test.
 *
 * The lazy state is per process, so each trial runs in a fresh process
 * forked from main() before main() used the agent at all. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capi/c_test_util.h"
#include "zen/zen_agent.h"

#define TRIALS 12
#define WORKERS_PER_TRIAL 24
/* A worker's first calls take milliseconds; one that has not finished in
 * this long is stuck. */
#define WORKER_ALARM_S 10

static const char kConfig[] =
    "{\"endpoints\":[{\"method\":\"GET\",\"route\":\"/limited\","
    "\"rateLimiting\":{\"enabled\":true,\"maxRequests\":1000000,"
    "\"windowSizeInMS\":60000}}]}";
/* Every event type whose conversion touches a different message. */
static const char kEvents[] =
    "[{\"type\":\"track_request\"},"
    "{\"type\":\"track_rate_limited_request\"},"
    "{\"type\":\"track_attack\",\"sink_name\":\"mysql2\","
    "\"sink_kind\":\"sql_op\",\"being_blocked\":true},"
    "{\"type\":\"track_user\",\"actor\":{\"id\":\"u1\",\"name\":\"U\","
    "\"lastIpAddress\":\"198.51.100.4\",\"firstSeenAt\":1,"
    "\"lastSeenAt\":2}},"
    "{\"type\":\"track_outbound\",\"connection\":{\"hostname\":\"a.test\","
    "\"port\":443}},"
    "{\"type\":\"track_route\",\"route\":{\"method\":\"GET\","
    "\"path\":\"/r\"},\"schema\":{\"body\":{\"type\":\"json\"}}}]";

/* One of each call a worker makes; 0 when all answered. */
static int first_calls(zen_agent* agent) {
  zen_rate_limit r;
  char* samples = NULL;
  size_t samples_len = 0;
  char* msg = NULL;
  int bad = 0;
  if (zen_agent_track(agent, kEvents, strlen(kEvents), &msg) != ZEN_OK) ++bad;
  zen_free(msg);
  msg = NULL;
  memset(&r, 0, sizeof r);
  if (zen_agent_rate_limit(agent, "GET", 3, "/limited", 8, "203.0.113.9", 11,
                           NULL, 0, &r, &msg) != ZEN_OK) {
    ++bad;
  }
  zen_free(r.discriminator);
  zen_free(msg);
  msg = NULL;
  if (zen_agent_record_attack_wave(agent, "203.0.113.9", 11, "GET", 3, "/.env",
                                   5, &samples, &samples_len, NULL,
                                   &msg) != ZEN_OK) {
    ++bad;
  }
  zen_free(samples);
  zen_free(msg);
  msg = NULL;
  if (zen_agent_flush(agent, &msg) != ZEN_OK) ++bad;
  zen_free(msg);
  return bad;
}

struct busy_args {
  zen_agent* agent;
  volatile sig_atomic_t stop;
};

/* The parent's own traffic while it forks: every first use of a call in
 * this process happens here, concurrently with the forks. */
static void* parent_traffic(void* arg) {
  struct busy_args* busy = (struct busy_args*)arg;
  while (!busy->stop) {
    char* text = NULL;
    size_t len = 0;
    char* msg = NULL;
    (void)first_calls(busy->agent);
    if (zen_agent_heartbeat(busy->agent, 0, NULL, 0, &text, &len, &msg) ==
        ZEN_OK) {
      zen_free(text);
    }
    zen_free(msg);
    msg = NULL;
    text = NULL;
    if (zen_agent_metrics(busy->agent, &text, &len, &msg) == ZEN_OK) {
      zen_free(text);
    }
    zen_free(msg);
  }
  return NULL;
}

/* In a fresh process: an agent, its own traffic, a storm of workers.
 * Returns the number of workers that failed or hung. */
static int trial(void) {
  static const char kOptions[] = "{\"client\":{\"flush_interval_ms\":60000}}";
  zen_agent* agent = NULL;
  char* msg = NULL;
  struct busy_args busy;
  pthread_t thread;
  pid_t workers[WORKERS_PER_TRIAL];
  int i, bad = 0;
  if (zen_agent_create(kOptions, strlen(kOptions), &agent, &msg) != ZEN_OK) {
    fprintf(stderr, "trial %d: create: %s\n", (int)getpid(), msg);
    zen_free(msg);
    return 1;
  }
  if (zen_agent_update_config(agent, kConfig, strlen(kConfig), &msg) !=
      ZEN_OK) {
    fprintf(stderr, "trial %d: config: %s\n", (int)getpid(), msg);
    zen_free(msg);
    ++bad;
  }
  busy.agent = agent;
  busy.stop = 0;
  if (pthread_create(&thread, NULL, parent_traffic, &busy) != 0) return 1;
  for (i = 0; i < WORKERS_PER_TRIAL; ++i) {
    workers[i] = fork();
    if (workers[i] == 0) {
      zen_testing_after_fork_in_child();
      alarm(WORKER_ALARM_S);
      _exit(first_calls(agent) == 0 ? 0 : 1);
    }
    if (workers[i] < 0) {
      perror("fork");
      ++bad;
    }
  }
  for (i = 0; i < WORKERS_PER_TRIAL; ++i) {
    int status;
    if (workers[i] <= 0) continue;
    status = reap(workers[i]);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
      fprintf(stderr,
              "worker %d (fork %d of trial %d) hung on its first calls\n",
              (int)workers[i], i, (int)getpid());
      ++bad;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "worker %d failed: status 0x%x\n", (int)workers[i],
              status);
      ++bad;
    }
  }
  busy.stop = 1;
  pthread_join(thread, NULL);
  zen_agent_destroy(agent);
  return bad;
}

int main(void) {
  int t;
  for (t = 0; t < TRIALS; ++t) {
    int status;
    const pid_t pid = fork();
    if (pid == 0) _exit(trial() == 0 ? 0 : 1);
    if (pid < 0) {
      perror("fork");
      ++failures;
      break;
    }
    status = reap(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  return finish();
}
