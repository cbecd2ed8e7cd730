// An in-memory MessageStream pair, for testing rpc/ without sockets.
#ifndef ZEN_TESTING_IN_MEMORY_STREAM_H_
#define ZEN_TESTING_IN_MEMORY_STREAM_H_

#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "base/mutex.h"
#include "ipc/frame.h"
#include "ipc/message_stream.h"

namespace zen::testing {

// Two connected in-memory streams: what one writes the other reads. Each
// message is copied into its own padded buffer. Thread-safe.
std::pair<std::shared_ptr<ipc::MessageStream>,
          std::shared_ptr<ipc::MessageStream>>
InMemoryStreamPair();

}  // namespace zen::testing

#endif  // ZEN_TESTING_IN_MEMORY_STREAM_H_
