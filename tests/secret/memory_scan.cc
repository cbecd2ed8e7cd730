#include "tests/secret/memory_scan.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace zen::secret_hygiene {
namespace {

std::string ProcPath(pid_t pid, const char* file) {
  return pid == 0 ? absl::StrCat("/proc/self/", file)
                  : absl::StrCat("/proc/", pid, "/", file);
}

}  // namespace

InvertedKey::InvertedKey(absl::Span<const uint8_t> key) {
  for (uint8_t b : key) inverted_.push_back(static_cast<uint8_t>(~b));
}

bool InvertedKey::RawIn(absl::string_view haystack) const {
  const size_t n = inverted_.size();
  if (n == 0 || haystack.size() < n) return false;
  const uint8_t first = static_cast<uint8_t>(~inverted_[0]);
  const auto* h = reinterpret_cast<const uint8_t*>(haystack.data());
  for (size_t i = 0; i + n <= haystack.size(); ++i) {
    if (h[i] != first) continue;
    size_t j = 1;
    while (j < n && h[i + j] == static_cast<uint8_t>(~inverted_[j])) ++j;
    if (j == n) return true;
  }
  return false;
}

bool InvertedKey::FoundIn(absl::string_view haystack) const {
  if (RawIn(haystack)) return true;
  // The encoded forms are made, searched and wiped here; they are text of
  // the key, which is what must not be in the haystack.
  std::string plain;
  for (uint8_t b : inverted_) plain.push_back(static_cast<char>(~b));
  std::string hex = absl::BytesToHexString(plain);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  std::string base64 = absl::Base64Escape(plain);
  // Base64 of a prefix, so padding differences do not hide a match.
  const bool found =
      haystack.find(hex) != absl::string_view::npos ||
      haystack.find(upper) != absl::string_view::npos ||
      haystack.find(base64.substr(0, 40)) != absl::string_view::npos;
  for (std::string* s : {&plain, &hex, &upper, &base64}) {
    volatile char* p = s->data();
    for (size_t i = 0; i < s->size(); ++i) p[i] = 0;
  }
  return found;
}

absl::StatusOr<std::vector<std::string>> FindKeyInMemory(
    pid_t pid, const InvertedKey& key, std::vector<const void*> skip,
    size_t max_mapping) {
  std::ifstream maps(ProcPath(pid, "maps"));
  if (!maps) return absl::UnavailableError("cannot read maps");
  const int mem = ::open(ProcPath(pid, "mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (mem < 0) return absl::UnavailableError("cannot open mem");
  std::vector<std::string> found;
  std::string line;
  std::string chunk;
  while (std::getline(maps, line)) {
    unsigned long lo = 0, hi = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %7s", &lo, &hi, perms) != 3) {
      continue;
    }
    if (perms[0] != 'r') continue;
    if (line.find("[vvar]") != std::string::npos ||
        line.find("[vsyscall]") != std::string::npos) {
      continue;
    }
    if (hi - lo > max_mapping) continue;
    bool skipped = false;
    for (const void* p : skip) {
      const auto a = reinterpret_cast<uintptr_t>(p);
      if (a >= lo && a < hi) skipped = true;
    }
    if (skipped) continue;
    // Read in overlapping chunks so a key across a boundary is seen.
    constexpr size_t kChunk = 1 << 20;
    constexpr size_t kOverlap = 64;
    for (unsigned long at = lo; at < hi; at += kChunk) {
      const size_t want = std::min<size_t>(kChunk + kOverlap, hi - at);
      chunk.resize(want);
      const ssize_t got =
          ::pread(mem, chunk.data(), want, static_cast<off_t>(at));
      if (got <= 0) break;  // Unreadable (guard pages and the like).
      if (key.RawIn(
              absl::string_view(chunk.data(), static_cast<size_t>(got)))) {
        found.push_back(absl::StrCat(absl::Hex(at), " ", line));
        break;
      }
    }
  }
  ::close(mem);
  for (char& c : chunk) c = 0;
  return found;
}

std::string ReadProcFile(pid_t pid, const char* file) {
  std::ifstream in(ProcPath(pid, file), std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace zen::secret_hygiene
