// What the server's reader does once a call is over, kept apart from the
// read loop: give back what a large frame took. (server_call_end.cc also
// holds Server::WarnAboutCall, the throttled warning about a call.)
#ifndef ZEN_RPC_SERVER_CALL_END_H_
#define ZEN_RPC_SERVER_CALL_END_H_

#include <cstddef>

#include "ipc/frame.h"

namespace zen::rpc {

// Frames at least this large are followed by ReleaseFrameAfterCall's trim.
// Real calls stay far below (an events batch of a few hundred events is
// tens of KiB).
inline constexpr size_t kReturnMemoryAfterFrameBytes = size_t{1} << 20;

// Drops the reader's hold on `frame`'s bytes and, if the frame was at least
// kReturnMemoryAfterFrameBytes, hands the allocator's free memory back to
// the system (malloc_trim). The frame, its decoded copies and the parsers'
// buffers were freed into the reader thread's arena, where glibc keeps
// such memory rather than give it back: a worker's few large frames would
// otherwise leave the parent that much larger for good. malloc_trim walks
// every arena, which is worth it only after a frame that large.
// Call with no lock held.
void ReleaseFrameAfterCall(ipc::Frame* frame);

}  // namespace zen::rpc

#endif  // ZEN_RPC_SERVER_CALL_END_H_
