#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */

#include "capi/c_test_util.h"

#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int failures = 0;

void expect_status(zen_status status, zen_status expected, char* message,
                   const char* what, int line) {
  if (status != expected) {
    fprintf(stderr, "line %d: %s: got %s (%s), want %s\n", line, what,
            zen_status_name(status), message != NULL ? message : "-",
            zen_status_name(expected));
    ++failures;
  }
  zen_free(message);
}

int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

int write_i64(int fd, int64_t value) {
  return write(fd, &value, sizeof value) == (ssize_t)sizeof value ? 0 : -1;
}

int read_i64(int fd, int64_t* value) {
  size_t got = 0;
  const int64_t deadline = now_ms() + WAIT_MS;
  while (got < sizeof *value) {
    struct pollfd p;
    int64_t left = 0;
    ssize_t n = 0;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    left = deadline - now_ms();
    if (left <= 0 || poll(&p, 1, (int)left) <= 0) return -1;
    n = read(fd, (char*)value + got, sizeof *value - got);
    if (n <= 0) return -1;
    got += (size_t)n;
  }
  return 0;
}

int reap(pid_t pid) {
  const int64_t deadline = now_ms() + WAIT_MS;
  int status = 0;
  pid_t done = 0;
  while ((done = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline) {
    sleep_ms(5);
  }
  if (done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    fprintf(stderr, "process %d killed: it did not exit\n", (int)pid);
    ++failures;
  }
  return status;
}

int finish(void) {
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("all checks passed\n");
  return 0;
}
