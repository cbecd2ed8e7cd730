// RawResult: the `result` of a response, as JSON text, without a copy.
#ifndef ZEN_RPC_RAW_RESULT_H_
#define ZEN_RPC_RAW_RESULT_H_

#include <utility>

#include "absl/strings/string_view.h"
#include "ipc/frame.h"

namespace zen::rpc {

// The raw JSON text of a call's result (`null` included), pointing into the
// received frame, which this object keeps alive. At least 64 readable bytes
// follow json() (ipc::kFramePadding), so it can be parsed in place by SIMD
// parsers. Copyable (copies share the frame). Immutable.
class RawResult {
 public:
  RawResult() : json_("null") {}
  RawResult(ipc::Frame frame, absl::string_view json)
      : frame_(std::move(frame)), json_(json) {}

  absl::string_view json() const { return json_; }
  bool is_null() const { return json_ == "null"; }

 private:
  ipc::Frame frame_;
  absl::string_view json_;
};

}  // namespace zen::rpc

#endif  // ZEN_RPC_RAW_RESULT_H_
