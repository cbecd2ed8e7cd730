#include "rpc/json_writer.h"

#include "simdjson.h"

namespace zen::rpc {
namespace {

constexpr char kHex[] = "0123456789abcdef";

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

void AppendEscapedAscii(std::string* out, char c) {
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
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        const char u[6] = {'\\',         'u', '0', '0', kHex[(c >> 4) & 0xF],
                           kHex[c & 0xF]};
        out->append(u, 6);
      } else {
        out->push_back(c);
      }
  }
}

bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

}  // namespace

void AppendJsonString(std::string* out, absl::string_view text) {
  out->push_back('"');
  const bool valid_utf8 = simdjson::validate_utf8(text.data(), text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t run = 0;  // Start of the pending run of bytes copied as they are.
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      if (NeedsEscape(c)) {
        out->append(text.data() + run, i - run);
        AppendEscapedAscii(out, static_cast<char>(c));
        run = i + 1;
      }
      ++i;
      continue;
    }
    if (valid_utf8) {
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

std::string JsonString(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  AppendJsonString(&out, text);
  return out;
}

}  // namespace zen::rpc
