#include "base/log.h"

#include <unistd.h>

#include <string>
#include <utility>

#include "base/fork_guard.h"
#include "base/mutex.h"

namespace zen {
namespace {

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

void DefaultSink(LogLevel level, absl::string_view message) {
  if (level < LogLevel::kWarning) return;
  // One write(2) per line so lines of concurrent processes do not interleave.
  std::string line =
      absl::StrCat("zen ", LevelName(level), ": ", message, "\n");
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

struct SinkState {
  Mutex mu;
  LogSink sink ABSL_GUARDED_BY(mu);
};

SinkState& State() {
  static SinkState* state = [] {
    auto* s = new SinkState;  // Never destroyed: threads may log at exit.
    // A child forked while another thread copies the sink under `mu` would
    // otherwise inherit it held and hang on its first line.
    RegisterForkGuardedMutex(&s->mu);
    return s;
  }();
  return *state;
}

}  // namespace

LogSink SetLogSink(LogSink sink) {
  SinkState& state = State();
  MutexLock lock(&state.mu);
  LogSink previous = std::move(state.sink);
  state.sink = std::move(sink);
  return previous;
}

void Log(LogLevel level, absl::string_view message) {
  SinkState& state = State();
  LogSink sink;
  {
    MutexLock lock(&state.mu);
    sink = state.sink;
  }
  if (sink) {
    sink(level, message);
  } else {
    DefaultSink(level, message);
  }
}

}  // namespace zen
