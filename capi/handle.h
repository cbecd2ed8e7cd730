// What every entry point of the C ABI shares: the handle behind the opaque
// `zen_agent`, the translation of absl::Status into (zen_status, message),
// library-allocated results, and the guard that keeps exceptions inside.
#ifndef ZEN_CAPI_HANDLE_H_
#define ZEN_CAPI_HANDLE_H_

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "agent/agent.h"
#include "zen/zen_agent.h"

namespace zen::capi {

// What a `zen_agent*` points to. `struct zen_agent` itself is never
// defined, not even here: the handle stays opaque in the library's debug
// info too, so the ABI check sees no C++ behind it.
struct Handle {
  std::unique_ptr<Agent> agent;
  // The process that called zen_agent_stop on this handle (0: none). Only
  // that process's calls are refused afterwards: a child forked earlier
  // still owns its own connection.
  std::atomic<pid_t> stopped_in{0};
};

inline Handle* HandleOf(zen_agent* agent) {
  return reinterpret_cast<Handle*>(agent);
}
inline const Handle* HandleOf(const zen_agent* agent) {
  return reinterpret_cast<const Handle*>(agent);
}
inline zen_agent* ToC(Handle* handle) {
  return reinterpret_cast<zen_agent*>(handle);
}
// The Agent behind a handle the caller checked is not null.
inline Agent* AgentOf(const zen_agent* agent) {
  return HandleOf(agent)->agent.get();
}

// Copies `text` into malloc'd memory with a NUL after it; nullptr when out
// of memory.
char* CopyOut(absl::string_view text);

// Sets *message (when not null) to nullptr for OK, else to a copy of the
// status's message. Returns the status's code.
zen_status Report(const absl::Status& status, char** message);

// Sets *out / *out_len to a copy of `text` (both may be null to skip).
// kResourceExhausted when the copy cannot be allocated.
absl::Status SetOut(absl::string_view text, char** out, size_t* out_len);

// Clears out-parameters a failed call leaves behind.
inline void ClearOut(char** out, size_t* out_len) {
  if (out != nullptr) *out = nullptr;
  if (out_len != nullptr) *out_len = 0;
}

// A (pointer, length) argument: kInvalidArgument naming `what` for a null
// pointer with a non-zero length, or text that is not UTF-8.
absl::Status ReadText(const char* data, size_t len, absl::string_view what,
                      absl::string_view* out);

// The agent's state for a call from this process: kInvalidArgument for a
// null handle, kCancelled once this process stopped it.
absl::Status CheckUsable(const zen_agent* agent);

// CheckUsable, and that this is the process that created the agent
// (kFailedPrecondition naming `function` otherwise).
absl::Status CheckParent(const zen_agent* agent, absl::string_view function);

// This process's client, connecting on the first call after a fork;
// kUnavailable when the parent cannot be reached.
absl::Status ClientOf(zen_agent* agent, AgentClient** client);

// Runs `body` (returning absl::Status) with every exception caught: a
// std::bad_alloc is kResourceExhausted, anything else kInternal. Nothing
// reaches the host but a status and a message.
template <typename Body>
zen_status Guarded(char** message, Body body) {
  if (message != nullptr) *message = nullptr;
  absl::Status status;
  try {
    status = body();
  } catch (const std::bad_alloc&) {
    status = absl::ResourceExhaustedError("out of memory");
  } catch (const std::exception& e) {
    status = absl::InternalError(e.what());
  } catch (...) {
    status = absl::InternalError("unexpected exception");
  }
  try {
    return Report(status, message);
  } catch (...) {
    return static_cast<zen_status>(status.code());
  }
}

}  // namespace zen::capi

#endif  // ZEN_CAPI_HANDLE_H_
