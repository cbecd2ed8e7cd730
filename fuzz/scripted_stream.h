// ScriptedStream: a MessageStream that hands a server a fixed list of frames
// and keeps what it writes back, all on the caller's thread.
//
// rpc::Server::ServeStream(stream) then runs the server's whole per-frame
// path (envelope parsing, dispatch, handler, response) synchronously, with
// no socket and no thread: fast and deterministic enough for a fuzzer.
#ifndef ZEN_FUZZ_SCRIPTED_STREAM_H_
#define ZEN_FUZZ_SCRIPTED_STREAM_H_

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/mutex.h"
#include "ipc/frame.h"
#include "ipc/message_stream.h"

namespace zen::fuzz {

// Thread-safe (a handler may respond from another thread).
class ScriptedStream final : public ipc::MessageStream {
 public:
  // Queues one frame body; it is read with kFramePadding bytes after it.
  void AddFrame(absl::string_view body) {
    auto storage = std::make_shared<std::string>(body);
    storage->append(ipc::kFramePadding, '\0');
    MutexLock lock(&mu_);
    frames_.push_back(std::move(storage));
  }

  // The next queued frame; kUnavailable ("closed") once none is left or
  // after Shutdown().
  absl::StatusOr<ipc::Frame> Read(absl::Time) override {
    MutexLock lock(&mu_);
    if (shut_down_ || frames_.empty()) {
      return absl::UnavailableError("connection closed");
    }
    std::shared_ptr<std::string> storage = std::move(frames_.front());
    frames_.pop_front();
    const absl::string_view body(storage->data(),
                                 storage->size() - ipc::kFramePadding);
    return ipc::Frame{body, std::move(storage)};
  }

  absl::Status Write(absl::Span<const absl::string_view> parts,
                     absl::Time) override {
    std::string frame;
    for (absl::string_view part : parts) absl::StrAppend(&frame, part);
    MutexLock lock(&mu_);
    if (shut_down_) return absl::UnavailableError("connection closed");
    written_.push_back(std::move(frame));
    return absl::OkStatus();
  }

  void Shutdown() override {
    MutexLock lock(&mu_);
    shut_down_ = true;
  }

  // Every frame the server wrote, in order.
  std::vector<std::string> written() const {
    MutexLock lock(&mu_);
    return written_;
  }
  bool shut_down() const {
    MutexLock lock(&mu_);
    return shut_down_;
  }

 private:
  mutable Mutex mu_;
  std::deque<std::shared_ptr<std::string>> frames_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> written_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace zen::fuzz

#endif  // ZEN_FUZZ_SCRIPTED_STREAM_H_
