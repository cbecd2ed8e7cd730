/* The C ABI's error paths, from C (-std=c99 -Wall -Wextra -Werror) through
 * the shared library: bad options name the refused key, a document that
 * does not parse keeps the previous settings, null and malformed arguments
 * (non-UTF-8 text, NULL with a length) answer INVALID_ARGUMENT with a
 * message, never a crash; a stopped agent answers CANCELLED. */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capi/c_test_util.h"
#include "zen/zen_agent.h"

static const char kLimitedConfig[] =
    "{\"endpoints\":[{\"method\":\"GET\",\"route\":\"/limited\","
    "\"rateLimiting\":{\"enabled\":true,\"maxRequests\":10,"
    "\"windowSizeInMS\":60000}}]}";

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
  /* Well-formed, but no rate-limit zone fits in 100 bytes. */
  static const char kTinyZone[] = "{\"rate_limit_zone\":{\"bytes\":100}}";
  CHECK(zen_agent_create(kTinyZone, strlen(kTinyZone), &agent, &msg) ==
        ZEN_INVALID_ARGUMENT);
  CHECK(agent == NULL);
  CHECK(msg != NULL && strstr(msg, "rate-limit zone") != NULL);
  zen_free(msg);
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
  test_bad_options();
  EXPECT_STATUS(zen_agent_create(NULL, 0, &agent, &msg), ZEN_OK);
  if (agent == NULL) return finish();
  EXPECT_STATUS(zen_agent_update_config(agent, kLimitedConfig,
                                        strlen(kLimitedConfig), &msg),
                ZEN_OK);
  test_bad_arguments(agent);
  test_stop(agent);
  return finish();
}
