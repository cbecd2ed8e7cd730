// Channel::Impl's reading side: a synchronous caller waits, and reads for
// everyone while it holds the reading token; the async reader does so while
// only asynchronous calls wait; responses are delivered through the table.
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mutex.h"
#include "rpc/call_id.h"
#include "rpc/channel_impl.h"

namespace zen::rpc {

using internal::CompletedCalls;
using internal::PendingCall;
using internal::RunCallbacks;

absl::StatusOr<RawResult> Channel::Impl::Wait(PendingCall* p) {
  // The first round does not read the clock: the call was just sent, and a
  // deadline already past ends the read at once (the next round sees it).
  bool first = true;
  while (!p->done()) {
    if (!first && zen::Now() >= p->deadline) {
      if (table_.Take(p->number) == p) {
        PassOnToken();  // We may have been offered it.
        return absl::DeadlineExceededError("call timed out");
      }
      // Another thread took the call and is completing it right now.
      p->SleepUntilDone(absl::InfiniteFuture());
      break;
    }
    first = false;
    if (live_generation_.load() != p->generation) {
      // Its connection is gone: the thread that ended it fails the call.
      p->SleepUntilDone(p->deadline);
      continue;
    }
    if (token_.TryTake() || token_.Follow(p)) {
      LeadReading(p, p->stream, p->generation);
    }
  }
  PassOnToken();
  return p->TakeResult();
}

void Channel::Impl::PassOnToken() {
  token_.PassOn(
      [this] { table_.FindIf([](PendingCall* p) { return p->Offer(); }); });
}

void Channel::Impl::ReleaseToken() {
  token_.Release();
  PassOnToken();
  if (AsyncWaiting() > 0) {
    MutexLock lock(&mu_);
    async_wake_.SignalAll();  // The async reader may take the token.
  }
}

void Channel::Impl::LeadReading(PendingCall* mine,
                                std::shared_ptr<ipc::SocketStream> stream,
                                uint64_t generation) {
  CompletedCalls completed;
  // Per thread, not per call: its id keeps its capacity, so a warm caller
  // does not allocate for it. One thread leads reading at a time and never
  // twice over (it holds the token), so the view is not in use here yet.
  thread_local ResponseView response;
  for (;;) {
    RunCallbacks(completed);
    completed.clear();
    if (mine != nullptr ? mine->done() : AsyncWaiting() == 0) break;
    if (live_generation_.load() != generation) break;
    absl::Time deadline =
        mine != nullptr ? mine->deadline : absl::InfiniteFuture();
    {
      // Asked in one hold of mu_: the async calls may all complete
      // meanwhile, and the async reader must then leave rather than read
      // without a deadline.
      MutexLock lock(&mu_);
      if (mine == nullptr && expiry_.empty()) break;
      deadline = expiry_.ReadDeadline(deadline);
    }
    absl::StatusOr<ipc::Frame> frame = stream->Read(deadline);
    if (!frame.ok()) {
      if (absl::IsDeadlineExceeded(frame.status())) {
        if (AsyncWaiting() > 0) {
          MutexLock lock(&mu_);
          ExpireAsyncLocked(&completed);
        }
        if (mine != nullptr && zen::Now() >= mine->deadline) break;
        continue;
      }
      // An oversized frame from the server makes the stream unusable:
      // every call on it is lost, which is UNAVAILABLE for them.
      LoseConnection(generation,
                     absl::UnavailableError(absl::StrCat(
                         "connection lost: ", frame.status().message())),
                     &completed);
      break;
    }
    Deliver(*std::move(frame), generation, &response, &completed);
  }
  ReleaseToken();
  RunCallbacks(completed);
}

void Channel::Impl::Deliver(ipc::Frame frame, uint64_t generation,
                            ResponseView* response, CompletedCalls* completed) {
  absl::Status parsed = EnvelopeParser::ThreadLocal(options_.max_json_depth)
                            .ParseResponse(frame.body, response);
  if (!parsed.ok()) {
    if (absl::IsInvalidArgument(parsed)) return;  // Wrong shape: ignored.
    LogError("RPC client error: ", parsed.message());
    LoseConnection(generation, parsed, completed);
    return;
  }
  const uint64_t number = internal::ParseIdNumber(response->id, id_prefix_);
  PendingCall* p = number == 0 ? nullptr : TakeCall(number);
  if (p == nullptr) return;  // Late (timed out), unknown: ignored.
  if (response->error.ok()) {
    CompleteCall(p, RawResult(std::move(frame), response->result), completed);
  } else {
    CompleteCall(p, response->error, completed);
  }
}

void Channel::Impl::ExpireAsyncLocked(CompletedCalls* completed) {
  expiry_.ExpireDue(zen::Now(), [&](PendingCall* p) {
    if (table_.Take(p->number) != p) return false;
    CompleteCall(p, absl::DeadlineExceededError("call timed out"), completed);
    return true;
  });
}

void Channel::Impl::AsyncReaderLoop() {
  MutexLock lock(&mu_);
  while (!stopped_) {
    if (AsyncWaiting() == 0) {
      async_wake_.Wait(&mu_);
      continue;
    }
    if (stream_ != nullptr && token_.TryTake()) {
      WithUnlocked(&mu_, [this, stream = stream_, generation = generation_] {
        LeadReading(nullptr, stream, generation);
      });
      continue;
    }
    CompletedCalls expired;
    ExpireAsyncLocked(&expired);
    if (expired.empty()) {
      async_wake_.WaitUntil(&mu_, expiry_.Earliest());
    } else {
      WithUnlocked(&mu_, [&expired] { RunCallbacks(expired); });
    }
  }
}

}  // namespace zen::rpc
