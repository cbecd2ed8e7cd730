#include "testing/forked_child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "testing/fork_under_sanitizers.h"

namespace zen::testing {
namespace {

constexpr size_t kMaxMessage = 4096;

std::string ReadAll(int fd) {
  std::string out;
  char buf[512];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      if (out.size() > kMaxMessage) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  return out;
}

}  // namespace

std::string ChildOutcome::ToString() const {
  if (killed_at_deadline) return "killed at deadline";
  if (term_signal != 0) return absl::StrCat("killed by signal ", term_signal);
  return absl::StrCat("exit ", exit_code, message.empty() ? "" : ": ", message);
}

absl::StatusOr<ForkedChild> ForkedChild::Start(ChildFunction fn) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
  zen_testing_before_fork();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    ::close(fds[0]);
    zen_testing_after_fork_in_child();
    absl::Status status = fn();
    int code = 0;
    if (!status.ok()) {
      const std::string text = status.ToString();
      ssize_t ignored = ::write(fds[1], text.data(), text.size());
      (void)ignored;
      code = 1;
    }
    ::_exit(code);
  }
  ::close(fds[1]);
  return ForkedChild(pid, fds[0]);
}

ForkedChild::~ForkedChild() { KillAndReap(); }

ForkedChild::ForkedChild(ForkedChild&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      report_fd_(std::exchange(other.report_fd_, -1)) {}

ForkedChild& ForkedChild::operator=(ForkedChild&& other) noexcept {
  if (this != &other) {
    KillAndReap();
    pid_ = std::exchange(other.pid_, -1);
    report_fd_ = std::exchange(other.report_fd_, -1);
  }
  return *this;
}

void ForkedChild::Kill(int signal) {
  if (pid_ > 0) ::kill(pid_, signal);
}

void ForkedChild::KillAndReap() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  if (report_fd_ >= 0) {
    ::close(report_fd_);
    report_fd_ = -1;
  }
}

ChildOutcome ForkedChild::Wait(absl::Time deadline) {
  ChildOutcome outcome;
  if (pid_ <= 0) {
    outcome.message = "no child";
    return outcome;
  }
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (r < 0 && errno != EINTR) {
      outcome.message = "waitpid failed";
      pid_ = -1;
      return outcome;
    }
    if (zen::Now() >= deadline) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      outcome.killed_at_deadline = true;
      break;
    }
    ::poll(nullptr, 0, 2);
  }
  pid_ = -1;
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) outcome.term_signal = WTERMSIG(status);
  if (report_fd_ >= 0) {
    outcome.message = ReadAll(report_fd_);
    ::close(report_fd_);
    report_fd_ = -1;
  }
  return outcome;
}

absl::StatusOr<std::vector<ForkedChild>> StartTogether(
    int n, std::function<absl::Status(int index)> fn) {
  int go[2];
  if (::pipe2(go, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
  std::vector<ForkedChild> children;
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<ForkedChild> child =
        ForkedChild::Start([&fn, &go, i]() -> absl::Status {
          ::close(go[1]);
          char byte;
          if (::read(go[0], &byte, 1) != 1) {
            return absl::InternalError("barrier closed early");
          }
          return fn(i);
        });
    if (!child.ok()) {
      ::close(go[0]);
      ::close(go[1]);
      return child.status();
    }
    children.push_back(std::move(*child));
  }
  ::close(go[0]);
  const std::string release(static_cast<size_t>(n), 'g');
  ssize_t ignored = ::write(go[1], release.data(), release.size());
  (void)ignored;
  ::close(go[1]);
  return children;
}

ChildOutcome RunInChild(ChildFunction fn, absl::Duration timeout) {
  absl::StatusOr<ForkedChild> child = ForkedChild::Start(std::move(fn));
  if (!child.ok()) {
    ChildOutcome outcome;
    outcome.message = child.status().ToString();
    return outcome;
  }
  return child->Wait(zen::Now() + timeout);
}

}  // namespace zen::testing
