#include "rpc/server_call_end.h"

#include <malloc.h>

namespace zen::rpc {

void ReleaseFrameAfterCall(ipc::Frame* frame) {
  const bool large = frame->body.size() >= kReturnMemoryAfterFrameBytes;
  frame->body = absl::string_view();
  frame->storage.reset();
  if (large) malloc_trim(0);
}

}  // namespace zen::rpc
