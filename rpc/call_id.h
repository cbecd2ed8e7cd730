// Call ids of the client channel: "<random prefix><decimal number>".
// Internal to rpc::Channel.
#ifndef ZEN_RPC_CALL_ID_H_
#define ZEN_RPC_CALL_ID_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace zen::rpc::internal {

// 16 random hex digits and a '-' (17 bytes), different for every channel,
// so that ids stay unique across the workers of one parent.
std::string RandomIdPrefix();

// A call's id, "<prefix><number>", formatted on the stack: ids are longer
// than std::string's inline buffer, and this saves a heap allocation per call.
class CallId {
 public:
  // `prefix` is at most 32 bytes (RandomIdPrefix's are 17).
  CallId(absl::string_view prefix, uint64_t number);
  absl::string_view view() const { return absl::string_view(buf_, size_); }

 private:
  char buf_[32 + 20];
  size_t size_;
};

// The number of an id we issued, or 0 (never issued) for any other string.
// Strict (digits only, no leading zero), so exactly one string maps to each
// number: a response must echo our id byte for byte to complete a call.
uint64_t ParseIdNumber(absl::string_view id, absl::string_view prefix);

}  // namespace zen::rpc::internal

#endif  // ZEN_RPC_CALL_ID_H_
