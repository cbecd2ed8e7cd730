// The library's logging: a small pluggable sink.
//
// The library never writes to stdout. By default messages at kWarning and
// above go to stderr; a host program routes them elsewhere with SetLogSink.
// The sink is process-wide (like absl's log sinks) because log lines come
// from threads no host object owns. Thread-safe, and fork-safe: the sink's
// lock is fork-guarded (base/fork_guard.h), so a child forked while another
// thread logs can log. The sink itself runs without that lock held.
#ifndef ZEN_BASE_LOG_H_
#define ZEN_BASE_LOG_H_

#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace zen {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Receives each log line (without a trailing newline). Called from any
// library thread, so it must be thread-safe and must not call back into the
// library.
using LogSink = std::function<void(LogLevel, absl::string_view message)>;

// Replaces the sink; an empty function restores the default (stderr,
// kWarning and above). Returns the previous sink.
LogSink SetLogSink(LogSink sink);

// Sends one line to the sink.
void Log(LogLevel level, absl::string_view message);

template <typename... Args>
void LogInfo(const Args&... args) {
  Log(LogLevel::kInfo, absl::StrCat(args...));
}
template <typename... Args>
void LogWarning(const Args&... args) {
  Log(LogLevel::kWarning, absl::StrCat(args...));
}
template <typename... Args>
void LogError(const Args&... args) {
  Log(LogLevel::kError, absl::StrCat(args...));
}

}  // namespace zen

#endif  // ZEN_BASE_LOG_H_
