#include "examples/supervisor.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/clock.h"
#include "base/log.h"

namespace zen::examples {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);

sigset_t SupervisorSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signal : {SIGCHLD, SIGTERM, SIGINT, SIGQUIT}) {
    sigaddset(&set, signal);
  }
  return set;
}

std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return "exit " + std::to_string(WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    return std::string("signal ") + ::strsignal(WTERMSIG(wait_status));
  }
  return "status " + std::to_string(wait_status);
}

}  // namespace

void BlockSupervisorSignals() {
  const sigset_t set = SupervisorSignals();
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

Supervisor::Supervisor(SupervisorOptions options,
                       std::function<int(int slot)> worker_main)
    : options_(std::move(options)),
      worker_main_(std::move(worker_main)),
      slots_(static_cast<size_t>(std::max(options_.workers, 0))) {}

absl::Status Supervisor::Run() {
  const sigset_t signals = SupervisorSignals();
  for (int slot = 0; slot < options_.workers; ++slot) {
    if (!StartWorker(slot) && slot == 0) {
      return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
    }
  }

  bool stopping = false;
  bool killed = false;
  absl::Time kill_at = absl::InfiniteFuture();
  for (;;) {
    const timespec wait = absl::ToTimespec(options_.tick);
    siginfo_t info;
    const int signal = ::sigtimedwait(&signals, &info, &wait);
    if (signal == SIGTERM || signal == SIGINT || signal == SIGQUIT) {
      RequestStop();
    }
    ReapExited(stopping);
    if (options_.on_tick) options_.on_tick();

    if (!stopping && stop_requested_.load()) {
      stopping = true;
      SignalAll(SIGTERM);
      kill_at = zen::Now() + options_.stop_grace;
    }
    if (stopping) {
      if (!AnyAlive()) return absl::OkStatus();
      if (!killed && zen::Now() >= kill_at) {
        LogWarning("supervisor: workers still running after ",
                   absl::FormatDuration(options_.stop_grace),
                   "; sending SIGKILL");
        SignalAll(SIGKILL);
        killed = true;
      }
      continue;
    }
    StartDueWorkers(zen::Now());
  }
}

bool Supervisor::StartWorker(int slot) {
  // What the parent buffered must not be written again by the child (a
  // worker only _exit()s, but a library in it might flush stdio).
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(worker_main_(slot));
  MutexLock lock(&mu_);
  Slot& s = slots_[static_cast<size_t>(slot)];
  const absl::Time now = zen::Now();
  if (pid < 0) {
    LogError("supervisor: fork: ", std::strerror(errno));
    s.backoff = std::min(kMaxBackoff, std::max(kFirstBackoff, s.backoff * 2));
    s.restart_at = now + s.backoff;
    return false;
  }
  s.pid = pid;
  s.started_at = now;
  return true;
}

void Supervisor::StartDueWorkers(absl::Time now) {
  std::vector<int> due;
  {
    MutexLock lock(&mu_);
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].pid == 0 && slots_[i].restart_at <= now) {
        due.push_back(static_cast<int>(i));
      }
    }
  }
  for (int slot : due) StartWorker(slot);
}

void Supervisor::ReapExited(bool stopping) {
  for (;;) {
    int wait_status = 0;
    const pid_t pid = ::waitpid(-1, &wait_status, WNOHANG);
    if (pid <= 0) return;  // None left to reap now (or no children at all).
    MutexLock lock(&mu_);
    for (size_t i = 0; i < slots_.size(); ++i) {
      Slot& s = slots_[i];
      if (s.pid != pid) continue;
      exits_.push_back({static_cast<int>(i), pid, wait_status, stopping});
      s.pid = 0;
      const absl::Time now = zen::Now();
      if (!stopping) {
        const bool healthy =
            now - s.started_at >= options_.min_healthy_lifetime;
        s.backoff = healthy ? absl::ZeroDuration()
                            : std::min(kMaxBackoff,
                                       std::max(kFirstBackoff, s.backoff * 2));
        s.restart_at = now + s.backoff;
        LogWarning("supervisor: worker ", pid, " (slot ", i,
                   ") died: ", DescribeExit(wait_status), "; restarting",
                   healthy ? "" : " after back-off");
      }
      break;
    }
  }
}

void Supervisor::SignalAll(int signal) {
  MutexLock lock(&mu_);
  for (const Slot& s : slots_) {
    if (s.pid > 0) ::kill(s.pid, signal);
  }
}

bool Supervisor::AnyAlive() const {
  MutexLock lock(&mu_);
  return std::any_of(slots_.begin(), slots_.end(),
                     [](const Slot& s) { return s.pid > 0; });
}

std::vector<pid_t> Supervisor::live_workers() const {
  MutexLock lock(&mu_);
  std::vector<pid_t> pids;
  for (const Slot& s : slots_) pids.push_back(s.pid);
  return pids;
}

std::vector<WorkerExit> Supervisor::exits() const {
  MutexLock lock(&mu_);
  return exits_;
}

}  // namespace zen::examples
