/* zen_agent_rate_limit from C through libzen_agent.so.1: the baseline that
 * bench/python_rate_limit.py's rows are compared with (the same call, the
 * same server, the same placement, so the difference is the binding's).
 * Prints one JSON line.
 *
 *   python_rate_limit_baseline [--where=worker|master]
 *       [--placement=split|shared] [--calls=N] [--warmup=N]
 *
 * worker: a fork()ed child calls the parent's agent server over loopback
 * (the round trip a gunicorn worker makes). master: the parent calls its own
 * agent in process (no socket): what is left is the call's own cost. Each
 * call counts one request of one of 1,000 client IPs against a limit it
 * never reaches. The server runs on CPU 0, the caller on CPU 1 (split) or
 * CPU 0 (shared). */
#define _GNU_SOURCE

#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zen/zen_agent.h"

static const char kConfig[] =
    "{\"endpoints\":[{\"method\":\"GET\",\"route\":\"/api/limited\","
    "\"forceProtectionOff\":false,\"allowedIPAddresses\":[],"
    "\"rateLimiting\":{\"enabled\":true,\"maxRequests\":1000000,"
    "\"windowSizeInMS\":60000}}]}";

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    perror("sched_setaffinity");
    exit(2);
  }
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int compare(const void* a, const void* b) {
  const int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

static const char* flag(int argc, char** argv, const char* name,
                        const char* fallback) {
  const size_t n = strlen(name);
  for (int i = 1; i < argc; ++i) {
    if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') {
      return argv[i] + n + 1;
    }
  }
  return fallback;
}

/* Times `calls` calls after `warmup`; writes p50/p99 in ns. 0 on success. */
static int run(zen_agent* agent, int warmup, int calls, int64_t* p50,
               int64_t* p99) {
  char ips[1000][24]; /* Room for any int, so no truncation warning. */
  for (int i = 0; i < 1000; ++i) {
    snprintf(ips[i], sizeof(ips[i]), "10.0.%d.%d", i / 250, i % 250);
  }
  int64_t* samples = malloc(sizeof(int64_t) * (size_t)calls);
  if (samples == NULL) return 1;
  for (int i = -warmup; i < calls; ++i) {
    const char* ip = ips[(i + warmup) % 1000];
    zen_rate_limit result;
    const int64_t start = now_ns();
    const zen_status status =
        zen_agent_rate_limit(agent, "GET", 3, "/api/limited", 12, ip,
                             strlen(ip), NULL, 0, &result, NULL);
    zen_free(result.discriminator);
    const int64_t elapsed = now_ns() - start;
    if (status != ZEN_OK || !result.applies || result.throttled ||
        !result.from_parent) {
      fprintf(stderr, "call %d: status %s applies %d from_parent %d\n", i,
              zen_status_name(status), result.applies, result.from_parent);
      free(samples);
      return 1;
    }
    if (i >= 0) samples[i] = elapsed;
  }
  qsort(samples, (size_t)calls, sizeof(int64_t), compare);
  *p50 = samples[calls / 2];
  *p99 = samples[(int64_t)calls * 99 / 100];
  free(samples);
  return 0;
}

int main(int argc, char** argv) {
  const char* where = flag(argc, argv, "--where", "worker");
  const char* placement = flag(argc, argv, "--placement", "split");
  const int calls = atoi(flag(argc, argv, "--calls", "20000"));
  const int warmup = atoi(flag(argc, argv, "--warmup", "2000"));
  if (calls <= 0 || warmup < 0) return 2;
  pin(0);
  zen_agent* agent = NULL;
  char* message = NULL;
  /* A loaded machine may take a round trip past the 1 s default; the
   * benchmark wants every answer from the parent. */
  static const char kOptions[] =
      "{\"client\":{\"rate_limit_timeout_ms\":60000}}";
  if (zen_agent_create(kOptions, strlen(kOptions), &agent, &message) !=
          ZEN_OK ||
      zen_agent_update_config(agent, kConfig, strlen(kConfig), &message) !=
          ZEN_OK) {
    fprintf(stderr, "setup: %s\n", message ? message : "-");
    return 1;
  }
  int64_t p50 = 0, p99 = 0;
  int failed = 0;
  if (strcmp(where, "master") == 0) {
    failed = run(agent, warmup, calls, &p50, &p99);
  } else {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    const pid_t child = fork();
    if (child < 0) return 1;
    if (child == 0) {
      close(fds[0]);
      pin(strcmp(placement, "shared") == 0 ? 0 : 1);
      int64_t figures[2] = {0, 0};
      const int rc = run(agent, warmup, calls, &figures[0], &figures[1]);
      if (rc == 0 && write(fds[1], figures, sizeof(figures)) != sizeof(figures))
        _exit(1);
      _exit(rc);
    }
    close(fds[1]);
    int64_t figures[2] = {0, 0};
    const ssize_t got = read(fds[0], figures, sizeof(figures));
    int status = 0;
    waitpid(child, &status, 0);
    failed = got != (ssize_t)sizeof(figures) || !WIFEXITED(status) ||
             WEXITSTATUS(status) != 0;
    p50 = figures[0];
    p99 = figures[1];
  }
  zen_agent_destroy(agent);
  if (failed) return 1;
  printf(
      "{\"system\":\"c_abi\",\"where\":\"%s\",\"placement\":\"%s\","
      "\"calls\":%d,\"p50_us\":%.2f,\"p99_us\":%.2f}\n",
      where, placement, calls, (double)p50 / 1000.0, (double)p99 / 1000.0);
  return 0;
}
