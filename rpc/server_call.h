// ServerCall: one incoming call, as a handler sees it.
#ifndef ZEN_RPC_SERVER_CALL_H_
#define ZEN_RPC_SERVER_CALL_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace zen::rpc {

// Where a deferred response goes: the connection its call came on.
// Implemented by the server; held by DeferredResponse.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // Writes the response `[id, result, error]` (see ServerCall::Sender).
  virtual void SendDeferred(absl::string_view id_json,
                            absl::Span<const absl::string_view> result_parts,
                            const absl::Status& error) = 0;
  // The call is over (answered or dropped): it stops counting as in flight.
  virtual void ReleaseDeferred() = 0;
};

// A call whose handler returned without answering it (ServerCall::Defer),
// to be answered later from any thread: the long poll's shape, where a
// waiting call holds no thread. Until it is answered or destroyed it counts
// as in flight on its connection (the per-connection cap bounds how many
// one worker can park).
//
// It does not keep its connection alive: when the peer goes away (its
// reader sees the end) the connection and its descriptor are released at
// once, and a later answer is dropped. Nor does it need the server: it may
// outlive it, and answering then is a quiet no-op.
//
// Thread-safe; the first Respond/RespondError wins. Destroyed unanswered, it
// answers CANCELLED.
class DeferredResponse {
 public:
  DeferredResponse(const std::shared_ptr<ResponseSink>& sink,
                   std::string id_json)
      : sink_(sink), connection_(sink.get()), id_json_(std::move(id_json)) {}
  DeferredResponse(const DeferredResponse&) = delete;
  DeferredResponse& operator=(const DeferredResponse&) = delete;
  ~DeferredResponse() {
    RespondError(absl::CancelledError("the server dropped the call"));
    if (std::shared_ptr<ResponseSink> sink = sink_.lock()) {
      sink->ReleaseDeferred();
    }
  }

  // As ServerCall::Respond. True if this was the first answer (also when
  // its connection is gone and the answer is dropped).
  bool Respond(absl::string_view result_json) {
    return Respond(absl::MakeConstSpan(&result_json, 1));
  }
  bool Respond(absl::Span<const absl::string_view> result_parts) {
    if (responded_.exchange(true)) return false;
    if (std::shared_ptr<ResponseSink> sink = sink_.lock()) {
      sink->SendDeferred(id_json_, result_parts, absl::OkStatus());
    }
    return true;
  }
  bool RespondError(const absl::Status& error) {
    if (responded_.exchange(true)) return false;
    if (std::shared_ptr<ResponseSink> sink = sink_.lock()) {
      sink->SendDeferred(id_json_, {}, error);
    }
    return true;
  }
  bool responded() const { return responded_.load(); }

  // Whether the connection is gone (the peer closed it or the server
  // stopped): an answer would be dropped, so the owner may forget the call.
  bool connection_gone() const { return sink_.expired(); }

  // The call's id as it came on the wire (JSON text).
  const std::string& id_json() const { return id_json_; }

  // Names the connection the call came on, so that an owner of parked
  // calls can count them per connection. Only compared, never followed:
  // once the connection is gone (connection_gone()) a new one may reuse
  // the address.
  const void* connection() const { return connection_; }

 private:
  const std::weak_ptr<ResponseSink> sink_;
  const void* const connection_;
  const std::string id_json_;
  std::atomic<bool> responded_{false};
};

// What makes a call's DeferredResponse: the connection it came on.
// Implemented by the server; a plain interface, so offering deferral costs
// a call nothing until it is used (no std::function made per call).
class CallDeferrer {
 public:
  virtual ~CallDeferrer() = default;
  // The DeferredResponse for the call whose id is `id_json`; the call then
  // counts as in flight until it is answered or dropped.
  virtual std::unique_ptr<DeferredResponse> Defer(
      absl::string_view id_json) = 0;
};

// One call being handled. The method name and the raw JSON texts of `args`
// (an array) and `kwargs` (an object) stay valid until the handler returns;
// each is followed by at least 64 readable bytes, so SIMD JSON parsers may
// read them in place.
//
// Exactly one response is sent per call: the first Respond/RespondError
// wins, later ones are dropped (they return false). A handler may respond
// early and keep working, or Defer() the answer past its return. Respond*
// are thread-safe.
class ServerCall {
 public:
  // How the response bytes leave: the concatenation of `result_parts` is a
  // JSON value, or `error` is not OK. It returns once the bytes are written
  // (or have failed to be), so the parts need to stay alive only until then.
  // Supplied by the server.
  using Sender =
      std::function<void(absl::Span<const absl::string_view> result_parts,
                         const absl::Status& error)>;

  ServerCall(absl::string_view id, absl::string_view method,
             absl::string_view args, absl::string_view kwargs,
             const std::atomic<bool>* cancelled, Sender sender,
             CallDeferrer* deferrer = nullptr)
      : id_(id),
        method_(method),
        args_(args),
        kwargs_(kwargs),
        cancelled_(cancelled),
        sender_(std::move(sender)),
        deferrer_(deferrer) {}

  ServerCall(const ServerCall&) = delete;
  ServerCall& operator=(const ServerCall&) = delete;

  absl::string_view id() const { return id_; }
  absl::string_view method() const { return method_; }
  // Raw JSON texts as received.
  absl::string_view args() const { return args_; }
  absl::string_view kwargs() const { return kwargs_; }

  // Sends `result_json`, which must be one valid JSON value (for example
  // `null`, `"ok"`, `{"a":1}`); it is spliced into the response verbatim.
  bool Respond(absl::string_view result_json) {
    return Respond(absl::MakeConstSpan(&result_json, 1));
  }

  // Sends the concatenation of `result_parts`, which must be one valid JSON
  // value, without concatenating them first: the parts go to the socket in
  // one gathered write (so a large cached text need not be copied into a
  // result string). The write is done when Respond returns, so the parts
  // need to stay alive only until then.
  bool Respond(absl::Span<const absl::string_view> result_parts) {
    if (responded_.exchange(true)) return false;
    sender_(result_parts, absl::OkStatus());
    return true;
  }

  // Sends an error response (`error` must not be OK).
  bool RespondError(const absl::Status& error) {
    if (responded_.exchange(true)) return false;
    code_.store(static_cast<int>(error.code()), std::memory_order_relaxed);
    sender_({}, error);
    return true;
  }

  bool responded() const { return responded_.load(); }
  // The code of the response sent (OK for a result, and for a deferred
  // call until it is answered); OK while none was.
  absl::StatusCode response_code() const {
    return static_cast<absl::StatusCode>(code_.load(std::memory_order_relaxed));
  }

  // Takes the answering of this call out of the handler: the handler returns
  // and the call waits, holding no thread, until the returned object is
  // answered (or destroyed: CANCELLED). Null if a response was already sent
  // or deferred, or the server offers no deferral. The method name, args()
  // and kwargs() are not valid past the handler's return: copy what the
  // answer needs first.
  std::unique_ptr<DeferredResponse> Defer() {
    if (deferrer_ == nullptr || responded_.exchange(true)) return nullptr;
    return deferrer_->Defer(id_);
  }

  // True once the server is stopping: long handlers should wrap up.
  bool cancelled() const {
    return cancelled_ != nullptr && cancelled_->load(std::memory_order_relaxed);
  }

 private:
  absl::string_view id_;
  absl::string_view method_;
  absl::string_view args_;
  absl::string_view kwargs_;
  const std::atomic<bool>* cancelled_;  // Not owned; outlives the call.
  Sender sender_;
  CallDeferrer* const deferrer_;  // Not owned; null: no deferral offered.
  std::atomic<bool> responded_{false};
  std::atomic<int> code_{0};  // response_code(); for the server's metrics.
};

// A method's implementation. It runs on a server thread. Its outcome, when
// it has not responded itself: OK → the result `null`; an error → an error
// response with that status. After an early response a returned error is
// only logged (the caller keeps the first result).
using Handler = std::function<absl::Status(ServerCall& call)>;

}  // namespace zen::rpc

#endif  // ZEN_RPC_SERVER_CALL_H_
