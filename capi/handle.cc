#include "capi/handle.h"

#include <simdjson.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace zen::capi {

char* CopyOut(absl::string_view text) {
  char* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (copy == nullptr) return nullptr;
  if (!text.empty()) std::memcpy(copy, text.data(), text.size());
  copy[text.size()] = '\0';
  return copy;
}

zen_status Report(const absl::Status& status, char** message) {
  if (message != nullptr) {
    *message = status.ok() ? nullptr : CopyOut(status.message());
  }
  return static_cast<zen_status>(status.code());
}

absl::Status SetOut(absl::string_view text, char** out, size_t* out_len) {
  ClearOut(out, out_len);
  if (out == nullptr) return absl::OkStatus();
  char* copy = CopyOut(text);
  if (copy == nullptr) return absl::ResourceExhaustedError("out of memory");
  *out = copy;
  if (out_len != nullptr) *out_len = text.size();
  return absl::OkStatus();
}

absl::Status ReadText(const char* data, size_t len, absl::string_view what,
                      absl::string_view* out) {
  if (data == nullptr) {
    if (len != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " is NULL with length ", len));
    }
    *out = absl::string_view();
    return absl::OkStatus();
  }
  if (!simdjson::validate_utf8(data, len)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not UTF-8"));
  }
  *out = absl::string_view(data, len);
  return absl::OkStatus();
}

absl::Status CheckUsable(const zen_agent* agent) {
  if (agent == nullptr) return absl::InvalidArgumentError("agent is NULL");
  const pid_t stopped =
      HandleOf(agent)->stopped_in.load(std::memory_order_acquire);
  if (stopped != 0 && stopped == ::getpid()) {
    return absl::CancelledError("the agent was stopped in this process");
  }
  return absl::OkStatus();
}

absl::Status CheckParent(const zen_agent* agent, absl::string_view function) {
  if (absl::Status usable = CheckUsable(agent); !usable.ok()) return usable;
  if (!AgentOf(agent)->is_parent()) {
    return absl::FailedPreconditionError(absl::StrCat(
        function, " may only be called in the process that created the agent"));
  }
  return absl::OkStatus();
}

absl::Status ClientOf(zen_agent* agent, AgentClient** client) {
  if (absl::Status usable = CheckUsable(agent); !usable.ok()) return usable;
  *client = AgentOf(agent)->client();
  if (*client != nullptr) return absl::OkStatus();
  if (!AgentOf(agent)->parent_alive()) {
    return absl::UnavailableError(
        "the parent process exited; its agent server cannot be reached");
  }
  return absl::UnavailableError(
      "the parent's agent server cannot be reached (no connection yet since "
      "this process was forked; the next call retries)");
}

}  // namespace zen::capi
