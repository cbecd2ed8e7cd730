// Writing JSON strings. (Parsing is simdjson's job; see envelope.h.)
#ifndef ZEN_RPC_JSON_WRITER_H_
#define ZEN_RPC_JSON_WRITER_H_

#include <string>

#include "absl/strings/string_view.h"

namespace zen::rpc {

// Appends `text` as a quoted JSON string, written as the reference's
// JSON.generate does: `"` and `\` escaped, control characters as \n, \t, ...
// or \u00XX, everything else (non-ASCII and `/` included) raw. Invalid UTF-8
// sequences become U+FFFD, so the output is always valid JSON.
void AppendJsonString(std::string* out, absl::string_view text);

// `text` as a quoted JSON string.
std::string JsonString(absl::string_view text);

// The escaper under AppendJsonString, for callers that treat invalid UTF-8
// as an error rather than replacing it: appends `text` quoted and escaped
// the same way, but copies every byte >= 0x80 as it is. Returns whether
// there was such a byte, that is whether the caller must still check that
// `text` is UTF-8 (ASCII always is).
bool AppendJsonStringBytes(std::string* out, absl::string_view text);

// True when AppendJsonString would write `text` between the quotes as it is:
// ASCII with nothing to escape (method names usually are).
bool NeedsNoEscaping(absl::string_view text);

}  // namespace zen::rpc

#endif  // ZEN_RPC_JSON_WRITER_H_
