/*
 * The rate-limit decision through the C ABI (libzen_agent.so.1), timed per
 * call: the baseline that bench/ruby_rate_limit.rb runs from Ruby through
 * the gem, with the same settings and the same loop. Prints one line per
 * case:  <process> <route> p50=<ns> p90=<ns> p99=<ns>
 *
 *   capi_rate_limit [calls]   (default 200000)
 *
 * "parent" cases run in the process that created the agent (the decision
 * is local: what remains is the call's own cost); "worker" cases in a
 * forked child (one round trip to the parent per call). Route /limited has
 * a limit (the answer carries a discriminator), /other has none.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zen/zen_agent.h"

static const char kConfig[] =
    "{\"success\":true,\"serviceId\":1,\"configUpdatedAt\":1,"
    "\"heartbeatIntervalInMS\":600000,\"endpoints\":[{\"method\":\"GET\","
    "\"route\":\"/limited\",\"forceProtectionOff\":false,\"graphql\":null,"
    "\"allowedIPAddresses\":[],\"rateLimiting\":{\"enabled\":true,"
    "\"maxRequests\":1000000,\"windowSizeInMS\":60000}}],"
    "\"blockedUserIds\":[],\"allowedIPAddresses\":[],"
    "\"receivedAnyStats\":false}";

static int64_t NowNs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int CompareInt64(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

/* Times `calls` decisions of GET `route` from one IP; 0 on success. */
static int Measure(zen_agent* agent, const char* who, const char* route,
                   int64_t* latencies, int calls) {
  for (int i = 0; i < calls; ++i) {
    zen_rate_limit result;
    char* message = NULL;
    int64_t start = NowNs();
    zen_status status =
        zen_agent_rate_limit(agent, "GET", 3, route, strlen(route), "1.2.3.4",
                             7, NULL, 0, &result, &message);
    zen_free(result.discriminator);
    latencies[i] = NowNs() - start;
    if (status != ZEN_OK) {
      fprintf(stderr, "rate_limit: %s\n", message ? message : "?");
      zen_free(message);
      return 1;
    }
  }
  qsort(latencies, (size_t)calls, sizeof(int64_t), CompareInt64);
  printf("%s %s p50=%lld p90=%lld p99=%lld\n", who, route,
         (long long)latencies[calls / 2], (long long)latencies[calls * 9 / 10],
         (long long)latencies[calls * 99 / 100]);
  fflush(stdout);
  return 0;
}

static int MeasureBoth(zen_agent* agent, const char* who, int calls) {
  int64_t* latencies = malloc(sizeof(int64_t) * (size_t)calls);
  if (latencies == NULL) return 1;
  int failed = Measure(agent, who, "/limited", latencies, calls) ||
               Measure(agent, who, "/other", latencies, calls);
  free(latencies);
  return failed;
}

int main(int argc, char** argv) {
  int calls = argc > 1 ? atoi(argv[1]) : 200000;
  if (calls < 100) calls = 100;
  zen_agent* agent = NULL;
  char* message = NULL;
  if (zen_agent_create(NULL, 0, &agent, &message) != ZEN_OK ||
      zen_agent_update_config(agent, kConfig, strlen(kConfig), &message) !=
          ZEN_OK) {
    fprintf(stderr, "setup: %s\n", message ? message : "?");
    return 1;
  }
  if (MeasureBoth(agent, "parent", calls) != 0) return 1;
  pid_t pid = fork();
  if (pid == 0) {
    int failed = MeasureBoth(agent, "worker", calls);
    zen_agent_destroy(agent);
    _exit(failed);
  }
  int wstatus = 0;
  if (pid < 0 || waitpid(pid, &wstatus, 0) != pid || !WIFEXITED(wstatus) ||
      WEXITSTATUS(wstatus) != 0) {
    fprintf(stderr, "worker failed\n");
    return 1;
  }
  zen_agent_destroy(agent);
  return 0;
}
