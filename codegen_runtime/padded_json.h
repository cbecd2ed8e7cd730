// JSON text with the read-ahead padding that simdjson needs.
#ifndef ZEN_CODEGEN_RUNTIME_PADDED_JSON_H_
#define ZEN_CODEGEN_RUNTIME_PADDED_JSON_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "ipc/frame.h"

namespace zen::codegen_runtime {

// Readable bytes that must follow JSON text handed to the decoders: the
// frame's padding, under the name this layer uses. rpc::ServerCall (args,
// kwargs) and rpc::RawResult (json) guarantee this many after their views,
// so the stubs parse received frames in place; it covers simdjson's
// read-ahead (static_assert in message_json.cc).
inline constexpr size_t kJsonPadding = ipc::kFramePadding;

// A view of JSON text followed by at least kJsonPadding readable bytes (their
// content does not matter). Constructing one is the caller's promise that the
// padding is there; the view does not own the text, which must outlive it.
class PaddedJsonView {
 public:
  explicit PaddedJsonView(absl::string_view json) : json_(json) {}

  absl::string_view json() const { return json_; }
  const char* data() const { return json_.data(); }
  size_t size() const { return json_.size(); }

 private:
  absl::string_view json_;
};

// An owned, padded copy of JSON text, for text that comes from elsewhere
// (tests, a string a caller built). The padding is spare capacity of the
// string: allocated, readable, kept by moves and re-reserved by copies.
// view() is valid until this object is modified or destroyed.
class PaddedJsonString {
 public:
  PaddedJsonString() { Pad(); }
  explicit PaddedJsonString(absl::string_view json) { Assign(json); }
  PaddedJsonString(const PaddedJsonString& other) { Assign(other.storage_); }
  PaddedJsonString& operator=(const PaddedJsonString& other) {
    if (this != &other) Assign(other.storage_);
    return *this;
  }
  PaddedJsonString(PaddedJsonString&&) = default;
  PaddedJsonString& operator=(PaddedJsonString&&) = default;

  void Assign(absl::string_view json) {
    storage_.reserve(json.size() + kJsonPadding);
    storage_.assign(json.data(), json.size());
  }

  // For building the text in place: the text is the whole string. Call Pad()
  // when done, before view().
  std::string* mutable_text() { return &storage_; }
  void Pad() { storage_.reserve(storage_.size() + kJsonPadding); }

  PaddedJsonView view() const { return PaddedJsonView(storage_); }

 private:
  std::string storage_;
};

}  // namespace zen::codegen_runtime

#endif  // ZEN_CODEGEN_RUNTIME_PADDED_JSON_H_
