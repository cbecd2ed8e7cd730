#include "rpc/json_writer.h"

#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace zen::rpc {
namespace {

// Length of the valid UTF-8 sequence at s[0..n), or 0 if it is invalid.
size_t Utf8SequenceLength(const unsigned char* s, size_t n) {
  const unsigned char c = s[0];
  size_t len;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid.
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
      (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return len;
}

bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// Appends the escape of one byte for which NeedsEscape() holds.
void AppendEscape(std::string* out, unsigned char c) {
  switch (c) {
    case '"':
      out->append("\\\"");
      return;
    case '\\':
      out->append("\\\\");
      return;
    case '\b':
      out->append("\\b");
      return;
    case '\f':
      out->append("\\f");
      return;
    case '\n':
      out->append("\\n");
      return;
    case '\r':
      out->append("\\r");
      return;
    case '\t':
      out->append("\\t");
      return;
    default:  // Other control characters are rare: no table of our own.
      absl::StrAppend(out, "\\u00", absl::Hex(c, absl::kZeroPad2));
  }
}

// AppendJsonString's slow path, for text that is not UTF-8: the same
// escapes, and U+FFFD in place of each byte that starts no valid sequence.
void AppendReplacingInvalidUtf8(std::string* out, absl::string_view text) {
  out->push_back('"');
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t run = 0;  // Start of the pending run of bytes copied as they are.
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      if (NeedsEscape(c)) {
        out->append(text.data() + run, i - run);
        AppendEscape(out, c);
        run = i + 1;
      }
      ++i;
      continue;
    }
    const size_t len = Utf8SequenceLength(s + i, n - i);
    if (len == 0) {
      out->append(text.data() + run, i - run);
      out->append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER.
      ++i;
      run = i;
    } else {
      i += len;
    }
  }
  out->append(text.data() + run, n - run);
  out->push_back('"');
}

}  // namespace

bool AppendJsonStringBytes(std::string* out, absl::string_view text) {
  out->push_back('"');
  size_t run = 0;  // Start of the pending run of bytes copied as they are.
  unsigned char high_bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    high_bits |= c;
    if (!NeedsEscape(c)) continue;
    out->append(text.data() + run, i - run);
    run = i + 1;
    AppendEscape(out, c);
  }
  out->append(text.data() + run, text.size() - run);
  out->push_back('"');
  return (high_bits & 0x80) != 0;
}

bool NeedsNoEscaping(absl::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80 || NeedsEscape(byte)) return false;
  }
  return true;
}

void AppendJsonString(std::string* out, absl::string_view text) {
  // Most text is ASCII: the escaping loop notices, and only other text pays
  // for the UTF-8 check (and, if invalid, for a second pass).
  const size_t start = out->size();
  if (!AppendJsonStringBytes(out, text) ||
      simdjson::validate_utf8(text.data(), text.size())) {
    return;
  }
  out->resize(start);
  AppendReplacingInvalidUtf8(out, text);
}

std::string JsonString(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  AppendJsonString(&out, text);
  return out;
}

}  // namespace zen::rpc
