/* zen_agent_worker_endpoint (ABI 1.1) from C (-std=c99 -Werror), through
 * the shared library: the parent and a forked worker get the same TCP
 * endpoint and secret; the out-parameters may be left out; a buffer too
 * small, a NULL agent, a stopped agent and a Unix-socket agent are refused
 * with the documented codes, leaving the outputs cleared. That a worker
 * can authenticate with what it returns is //capi:worker_endpoint_test's. */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capi/c_test_util.h"
#include "zen/zen_agent.h"

/* An endpoint as the call returns it. */
typedef struct endpoint {
  char* host;
  size_t host_len;
  uint16_t port;
  uint8_t secret[ZEN_AGENT_SECRET_SIZE];
} endpoint;

static zen_status get_endpoint(zen_agent* agent, endpoint* out, char** msg) {
  return zen_agent_worker_endpoint(agent, &out->host, &out->host_len,
                                   &out->port, out->secret, sizeof(out->secret),
                                   msg);
}

static int all_zero(const uint8_t* bytes, size_t n) {
  size_t i;
  for (i = 0; i < n; ++i) {
    if (bytes[i] != 0) return 0;
  }
  return 1;
}

static int same_endpoint(const endpoint* a, const endpoint* b) {
  return a->host != NULL && b->host != NULL && a->host_len == b->host_len &&
         strcmp(a->host, b->host) == 0 && a->port == b->port &&
         memcmp(a->secret, b->secret, ZEN_AGENT_SECRET_SIZE) == 0;
}

/* In a forked worker: 0 when it gets the parent's endpoint too, also after
 * its client connected (a call that needs the parent). */
static int worker(zen_agent* agent, const endpoint* parents) {
  endpoint mine;
  int64_t config = 0;
  char* msg = NULL;
  int result = 0;
  if (get_endpoint(agent, &mine, &msg) != ZEN_OK ||
      !same_endpoint(&mine, parents)) {
    fprintf(stderr, "worker: endpoint differs: %s\n", msg ? msg : "");
    result = 1;
  }
  zen_free(mine.host);
  zen_free(msg);
  if (zen_agent_poll_settings(agent, NULL) != ZEN_OK ||
      zen_agent_settings_generations(agent, &config, NULL, NULL) != ZEN_OK ||
      config != 1) {
    fprintf(stderr, "worker: could not reach the parent\n");
    result = 1;
  }
  if (get_endpoint(agent, &mine, NULL) != ZEN_OK ||
      !same_endpoint(&mine, parents)) {
    fprintf(stderr, "worker: endpoint differs once connected\n");
    result = 1;
  }
  zen_free(mine.host);
  zen_agent_stop(agent, NULL);
  return result;
}

static void test_parent_and_worker(void) {
  zen_agent* agent = NULL;
  endpoint parents;
  char* msg = NULL;
  pid_t pid;
  int status;
  EXPECT_STATUS(zen_agent_create(NULL, 0, &agent, &msg), ZEN_OK);
  if (agent == NULL) return;
  EXPECT_STATUS(zen_agent_update_config(agent, "{}", 2, &msg), ZEN_OK);

  EXPECT_STATUS(get_endpoint(agent, &parents, &msg), ZEN_OK);
  CHECK(parents.host != NULL && strcmp(parents.host, "127.0.0.1") == 0);
  CHECK(parents.host_len == strlen("127.0.0.1"));
  CHECK(parents.port != 0);
  /* 32 random bytes are all zero with probability 2^-256. */
  CHECK(!all_zero(parents.secret, sizeof(parents.secret)));

  {
    /* Every out-parameter may be left out; each part alone is the same. */
    endpoint part;
    memset(&part, 0xAB, sizeof(part));
    EXPECT_STATUS(
        zen_agent_worker_endpoint(agent, NULL, NULL, NULL, NULL, 0, &msg),
        ZEN_OK);
    EXPECT_STATUS(
        zen_agent_worker_endpoint(agent, &part.host, NULL, NULL, NULL, 0, &msg),
        ZEN_OK);
    CHECK(part.host != NULL && strcmp(part.host, parents.host) == 0);
    zen_free(part.host);
    EXPECT_STATUS(
        zen_agent_worker_endpoint(agent, NULL, NULL, &part.port, part.secret,
                                  sizeof(part.secret), &msg),
        ZEN_OK);
    CHECK(part.port == parents.port);
    CHECK(memcmp(part.secret, parents.secret, sizeof(part.secret)) == 0);
  }

  zen_testing_before_fork();
  pid = fork();
  if (pid < 0) {
    perror("fork");
    ++failures;
  } else if (pid == 0) {
    zen_testing_after_fork_in_child();
    _exit(worker(agent, &parents));
  } else {
    status = reap(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }

  zen_free(parents.host);
  EXPECT_STATUS(zen_agent_stop(agent, &msg), ZEN_OK);
  {
    /* Stopped in this process: refused, and nothing handed out. */
    endpoint after;
    memset(&after, 0xAB, sizeof(after));
    EXPECT_STATUS(get_endpoint(agent, &after, &msg), ZEN_CANCELLED);
    CHECK(after.host == NULL && after.host_len == 0 && after.port == 0);
    CHECK(all_zero(after.secret, sizeof(after.secret)));
  }
  zen_agent_destroy(agent);
}

static void test_refusals(void) {
  zen_agent* agent = NULL;
  endpoint e;
  uint8_t small[ZEN_AGENT_SECRET_SIZE - 1];
  char* msg = NULL;
  const char unix_options[] = "{\"transport\":\"unix\"}";

  memset(&e, 0xAB, sizeof(e));
  EXPECT_STATUS(get_endpoint(NULL, &e, &msg), ZEN_INVALID_ARGUMENT);
  CHECK(e.host == NULL && e.host_len == 0 && e.port == 0);
  CHECK(all_zero(e.secret, sizeof(e.secret)));

  EXPECT_STATUS(zen_agent_create(NULL, 0, &agent, &msg), ZEN_OK);
  if (agent == NULL) return;
  /* A buffer too small: refused, what it holds cleared, no host out. */
  memset(small, 0xAB, sizeof(small));
  e.host = (char*)&e; /* Must come back NULL. */
  {
    const zen_status s = zen_agent_worker_endpoint(
        agent, &e.host, &e.host_len, &e.port, small, sizeof(small), &msg);
    CHECK(s == ZEN_INVALID_ARGUMENT);
    CHECK(msg != NULL && strstr(msg, "ZEN_AGENT_SECRET_SIZE") != NULL);
    zen_free(msg);
    msg = NULL;
  }
  CHECK(e.host == NULL && e.port == 0);
  CHECK(all_zero(small, sizeof(small)));
  zen_agent_destroy(agent);

  /* A Unix-socket agent has no TCP endpoint for a foreign worker. */
  agent = NULL;
  EXPECT_STATUS(
      zen_agent_create(unix_options, strlen(unix_options), &agent, &msg),
      ZEN_OK);
  if (agent == NULL) return;
  memset(&e, 0xAB, sizeof(e));
  {
    const zen_status s = get_endpoint(agent, &e, &msg);
    CHECK(s == ZEN_FAILED_PRECONDITION);
    CHECK(msg != NULL && strstr(msg, "unix") != NULL);
    zen_free(msg);
    msg = NULL;
  }
  CHECK(e.host == NULL && e.port == 0);
  CHECK(all_zero(e.secret, sizeof(e.secret)));
  zen_agent_destroy(agent);
}

int main(void) {
  CHECK(strcmp(zen_agent_version(), ZEN_AGENT_VERSION_STRING) == 0);
  CHECK(strcmp(ZEN_AGENT_VERSION_STRING, "1.1.0") == 0);
  CHECK(ZEN_AGENT_ABI_MINOR >= 1);
  test_parent_and_worker();
  test_refusals();
  return finish();
}
