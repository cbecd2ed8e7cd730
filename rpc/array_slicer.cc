#include "rpc/array_slicer.h"

#include <cstring>

namespace zen::rpc::internal {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The characters a number or a literal (null, true, false) is made of.
bool IsScalarChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || c == '.' || c == '+' || c == '-';
}

size_t SkipSpace(absl::string_view json, size_t i) {
  while (i < json.size() && IsSpace(json[i])) ++i;
  return i;
}

// Index just past the string literal whose opening quote is json[i].
size_t SkipString(absl::string_view json, size_t i) {
  const char* const begin = json.data();
  const char* p = begin + i + 1;
  const char* const end = begin + json.size();
  for (;;) {
    const char* quote = static_cast<const char*>(std::memchr(p, '"', end - p));
    // A quote preceded by an odd number of backslashes is escaped. (Walked
    // with a pointer: an unsigned count subtracted from one wraps first.)
    const char* run = quote;
    while (run > p && run[-1] == '\\') --run;
    if ((quote - run) % 2 == 0) return quote + 1 - begin;
    p = quote + 1;
  }
}

// Index just past the value that starts at json[i].
size_t SkipValue(absl::string_view json, size_t i) {
  const char first = json[i];
  if (first == '"') return SkipString(json, i);
  if (first != '[' && first != '{') {
    while (i < json.size() && IsScalarChar(json[i])) ++i;
    return i;
  }
  size_t depth = 0;
  for (;;) {
    const char c = json[i];
    if (c == '"') {
      i = SkipString(json, i);
      continue;
    }
    if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && --depth == 0) {
      return i + 1;
    }
    ++i;
  }
}

// Start of the scalar that ends (exclusive) at json[end], or `end` when the
// value ending there is a string or a container.
size_t ScalarStart(absl::string_view json, size_t end) {
  size_t start = end;
  while (start > 0 && IsScalarChar(json[start - 1])) --start;
  return start;
}

size_t TrimBack(absl::string_view json, size_t end) {
  while (end > 0 && IsSpace(json[end - 1])) --end;
  return end;
}

}  // namespace

void SliceArrayElements(absl::string_view json, size_t count,
                        absl::string_view* out) {
  // From the back: the closing bracket, then trailing scalars, each preceded
  // by a comma, leaving at least one element for the front.
  size_t back_end = TrimBack(json, TrimBack(json, json.size()) - 1);
  size_t remaining = count;
  while (remaining > 1) {
    const size_t start = ScalarStart(json, back_end);
    if (start == back_end) break;
    --remaining;
    out[remaining] = json.substr(start, back_end - start);
    back_end = TrimBack(json, TrimBack(json, start) - 1);  // Before the comma.
  }
  // From the front: the opening bracket, then all but the last remaining
  // element, each followed by a comma.
  size_t i = SkipSpace(json, SkipSpace(json, 0) + 1);
  for (size_t k = 0; k + 1 < remaining; ++k) {
    const size_t end = SkipValue(json, i);
    out[k] = json.substr(i, end - i);
    i = SkipSpace(json, SkipSpace(json, end) + 1);  // Past the comma.
  }
  out[remaining - 1] = json.substr(i, back_end - i);
}

}  // namespace zen::rpc::internal
