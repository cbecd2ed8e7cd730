#include "rpc/call_id.h"

#include <unistd.h>

#include <charconv>
#include <cstring>
#include <iterator>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "ipc/crypto.h"

namespace zen::rpc::internal {

std::string RandomIdPrefix() {
  uint8_t bytes[8];
  if (!ipc::SecureRandomBytes(bytes).ok()) {
    // Still unique per process: fall back on the pid and the clock.
    const uint64_t mix = static_cast<uint64_t>(::getpid()) ^
                         static_cast<uint64_t>(absl::ToUnixNanos(zen::Now()));
    std::memcpy(bytes, &mix, sizeof(bytes));
  }
  return absl::StrCat(absl::BytesToHexString(absl::string_view(
                          reinterpret_cast<const char*>(bytes), sizeof(bytes))),
                      "-");
}

CallId::CallId(absl::string_view prefix, uint64_t number) {
  std::memcpy(buf_, prefix.data(), prefix.size());
  char* end = std::to_chars(buf_ + prefix.size(), std::end(buf_), number).ptr;
  size_ = static_cast<size_t>(end - buf_);
}

uint64_t ParseIdNumber(absl::string_view id, absl::string_view prefix) {
  if (!absl::ConsumePrefix(&id, prefix)) return 0;
  if (id.empty() || id[0] == '0') return 0;
  uint64_t number = 0;
  const auto [end, error] =
      std::from_chars(id.data(), id.data() + id.size(), number);
  if (error != std::errc() || end != id.data() + id.size()) return 0;
  return number;
}

}  // namespace zen::rpc::internal
