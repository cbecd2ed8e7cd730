/* What the C tests of the C ABI share: checks that count failures instead
 * of stopping (children must still be reaped), monotonic time, and int64
 * messages over pipes with a bounded wait. C99. */
#ifndef ZEN_CAPI_C_TEST_UTIL_H_
#define ZEN_CAPI_C_TEST_UTIL_H_

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "testing/fork_under_sanitizers.h" /* around each fork() */
#include "zen/zen_agent.h"

/* Each wait for an observable state gives up after this long. */
#define WAIT_MS 20000

/* Checks that failed so far in this process. */
extern int failures;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* Checks that `status` is `expected`, printing the call's message if not;
 * frees the message. */
void expect_status(zen_status status, zen_status expected, char* message,
                   const char* what, int line);

/* Runs `call`, which reports into a local `char* msg`, and checks its
 * status. The call is finished before `msg` is read (as a function's
 * arguments, their order would be unspecified). */
#define EXPECT_STATUS(call, expected)                                    \
  do {                                                                   \
    const zen_status expect_status_got_ = (call);                        \
    expect_status(expect_status_got_, (expected), msg, #call, __LINE__); \
    msg = NULL;                                                          \
  } while (0)

int64_t now_ms(void);
void sleep_ms(long ms);

/* One int64 over a pipe; 0 on success, -1 on failure (read_i64: nothing
 * within WAIT_MS, or end of file). */
int write_i64(int fd, int64_t value);
int read_i64(int fd, int64_t* value);

/* Waits for `pid` to exit within WAIT_MS (else SIGKILLs it, counted as a
 * failure); returns its wait status. */
int reap(pid_t pid);

/* main()'s ending: prints the count of failed checks; the exit status. */
int finish(void);

#endif /* ZEN_CAPI_C_TEST_UTIL_H_ */
