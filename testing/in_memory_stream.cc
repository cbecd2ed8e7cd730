#include "testing/in_memory_stream.h"

#include <cstring>

#include "absl/status/status.h"
#include "base/clock.h"

namespace zen::testing {
namespace {

// One direction: a queue of messages.
struct Pipe {
  Mutex mu;
  CondVar cv;
  std::deque<std::shared_ptr<std::string>> messages ABSL_GUARDED_BY(mu);
  bool closed ABSL_GUARDED_BY(mu) = false;
};

class InMemoryStream final : public ipc::MessageStream {
 public:
  InMemoryStream(std::shared_ptr<Pipe> in, std::shared_ptr<Pipe> out)
      : in_(std::move(in)), out_(std::move(out)) {}
  ~InMemoryStream() override { Shutdown(); }

  absl::StatusOr<ipc::Frame> Read(absl::Time deadline) override {
    MutexLock lock(&in_->mu);
    while (in_->messages.empty()) {
      if (in_->closed) return absl::UnavailableError("connection closed");
      if (!in_->cv.WaitUntil(&in_->mu, deadline) && zen::Now() >= deadline) {
        return absl::DeadlineExceededError("read timed out");
      }
    }
    std::shared_ptr<std::string> message = std::move(in_->messages.front());
    in_->messages.pop_front();
    const size_t size = message->size() - ipc::kFramePadding;
    absl::string_view body(message->data(), size);
    return ipc::Frame{body, std::move(message)};
  }

  absl::Status Write(absl::Span<const absl::string_view> parts,
                     absl::Time) override {
    auto message = std::make_shared<std::string>();
    for (absl::string_view part : parts)
      message->append(part.data(), part.size());
    message->append(ipc::kFramePadding, '\0');
    MutexLock lock(&out_->mu);
    if (out_->closed) return absl::UnavailableError("connection closed");
    out_->messages.push_back(std::move(message));
    out_->cv.SignalAll();
    return absl::OkStatus();
  }

  void Shutdown() override {
    for (Pipe* pipe : {in_.get(), out_.get()}) {
      MutexLock lock(&pipe->mu);
      pipe->closed = true;
      pipe->cv.SignalAll();
    }
  }

 private:
  std::shared_ptr<Pipe> in_;
  std::shared_ptr<Pipe> out_;
};

}  // namespace

std::pair<std::shared_ptr<ipc::MessageStream>,
          std::shared_ptr<ipc::MessageStream>>
InMemoryStreamPair() {
  auto a_to_b = std::make_shared<Pipe>();
  auto b_to_a = std::make_shared<Pipe>();
  return {std::make_shared<InMemoryStream>(b_to_a, a_to_b),
          std::make_shared<InMemoryStream>(a_to_b, b_to_a)};
}

}  // namespace zen::testing
