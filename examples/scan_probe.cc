#include "examples/scan_probe.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace zen::examples {
namespace {

constexpr absl::string_view kHttpMethods[] = {"GET",     "HEAD",   "POST",
                                              "PUT",     "DELETE", "CONNECT",
                                              "OPTIONS", "TRACE",  "PATCH"};

constexpr absl::string_view kProbedDirectories[] = {
    "wp-admin", "wp-includes", "phpmyadmin", "cgi-bin", "admin.php"};

constexpr absl::string_view kProbedExtensions[] = {
    ".bak", ".backup", ".old", ".orig",   ".sql", ".swp",
    ".env", ".ini",    ".log", ".tar.gz", ".zip"};

template <size_t N>
bool OneOf(absl::string_view s, const absl::string_view (&list)[N]) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

}  // namespace

bool IsScanProbe(absl::string_view method, absl::string_view path) {
  if (!OneOf(absl::AsciiStrToUpper(method), kHttpMethods)) return true;
  const std::string lower = absl::AsciiStrToLower(path);
  for (absl::string_view segment :
       absl::StrSplit(lower, '/', absl::SkipEmpty())) {
    if (segment.front() == '.' && segment != ".well-known") return true;
    if (OneOf(segment, kProbedDirectories)) return true;
  }
  for (absl::string_view extension : kProbedExtensions) {
    if (absl::EndsWith(lower, extension)) return true;
  }
  return false;
}

}  // namespace zen::examples
