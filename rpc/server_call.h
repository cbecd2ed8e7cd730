// ServerCall: one incoming call, as a handler sees it.
#ifndef ZEN_RPC_SERVER_CALL_H_
#define ZEN_RPC_SERVER_CALL_H_

#include <atomic>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace zen::rpc {

// One call being handled. The method name and the raw JSON texts of `args`
// (an array) and `kwargs` (an object) stay valid until the handler returns;
// each is followed by at least 64 readable bytes, so SIMD JSON parsers may
// read them in place.
//
// Exactly one response is sent per call: the first Respond/RespondError
// wins, later ones are dropped (they return false). A handler may respond
// early and keep working. Respond* are thread-safe.
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
             const std::atomic<bool>* cancelled, Sender sender)
      : id_(id),
        method_(method),
        args_(args),
        kwargs_(kwargs),
        cancelled_(cancelled),
        sender_(std::move(sender)) {}

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
    sender_({}, error);
    return true;
  }

  bool responded() const { return responded_.load(); }

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
  std::atomic<bool> responded_{false};
};

// A method's implementation. It runs on a server thread. Its outcome, when
// it has not responded itself: OK → the result `null`; an error → an error
// response with that status. After an early response a returned error is
// only logged (the caller keeps the first result).
using Handler = std::function<absl::Status(ServerCall& call)>;

}  // namespace zen::rpc

#endif  // ZEN_RPC_SERVER_CALL_H_
