#include "rpc/server_call_end.h"

#include <malloc.h>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "rpc/server.h"

namespace zen::rpc {

void ReleaseFrameAfterCall(ipc::Frame* frame) {
  const bool large = frame->body.size() >= kReturnMemoryAfterFrameBytes;
  frame->body = absl::string_view();
  frame->storage.reset();
  if (large) malloc_trim(0);
}

void Server::WarnAboutCall(absl::string_view message) {
  if (!call_warnings_.Log(LogLevel::kWarning, message, zen::Now())) {
    counters_.warnings_suppressed.fetch_add(1, std::memory_order_relaxed);
  }
}

void Server::WarnHandlerError(absl::string_view method,
                              const absl::Status& error,
                              bool after_responding) {
  WarnAboutCall(absl::StrCat("RPC server error handling '", method, "'",
                             after_responding ? " after responding" : "", ": ",
                             error.ToString()));
}

}  // namespace zen::rpc
