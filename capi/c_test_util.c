#define _GNU_SOURCE /* pthread_{get,set}attr_default_np */

#include "capi/c_test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
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

/* Defined by the ThreadSanitizer runtime; null in a binary without it. */
extern void __tsan_init(void) __attribute__((weak));

void after_fork_in_child(void) {
  pthread_attr_t attr;
  size_t stack_size = 0;
  if (&__tsan_init == NULL) return;
  if (pthread_getattr_default_np(&attr) != 0) return;
  if (pthread_attr_getstacksize(&attr, &stack_size) == 0) {
    pthread_attr_setstacksize(&attr, 2 * stack_size);
    pthread_setattr_default_np(&attr);
  }
  pthread_attr_destroy(&attr);
}

/* Defined by the AddressSanitizer runtime; null in a binary without it. */
extern void __asan_init(void) __attribute__((weak));

/* The state letter of this process's thread `tid` ('S': asleep in a
 * wait), or 0 if it cannot be read (the thread ended). */
static char thread_state(const char* tid) {
  char path[64];
  char stat[512];
  ssize_t n;
  const char* paren;
  int fd;
  snprintf(path, sizeof path, "/proc/self/task/%s/stat", tid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  n = read(fd, stat, sizeof stat - 1);
  close(fd);
  if (n <= 0) return 0;
  stat[n] = '\0';
  /* "tid (comm) S ...": comm may hold spaces and parentheses. */
  paren = strrchr(stat, ')');
  return paren != NULL && paren[1] == ' ' ? paren[2] : 0;
}

/* 1 when every thread of this process but the caller is asleep. */
static int others_asleep(const char* self) {
  int asleep = 1;
  struct dirent* entry;
  DIR* dir = opendir("/proc/self/task");
  if (dir == NULL) return 1;
  while (asleep && (entry = readdir(dir)) != NULL) {
    if (entry->d_name[0] == '.' || strcmp(entry->d_name, self) == 0) {
      continue;
    }
    if (thread_state(entry->d_name) != 'S') asleep = 0;
  }
  closedir(dir);
  return asleep;
}

void before_fork_in_parent(void) {
  char self[32];
  const int64_t give_up = now_ms() + 2000;
  if (&__asan_init == NULL) return;
  snprintf(self, sizeof self, "%ld", (long)syscall(SYS_gettid));
  while (now_ms() < give_up && !others_asleep(self)) {
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
}

int finish(void) {
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("all checks passed\n");
  return 0;
}
