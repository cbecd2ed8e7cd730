// Searching a process's memory, environment and command line for a key,
// without the search itself leaving a copy of the key anywhere: the needle
// is kept inverted (each byte XOR 0xFF) and compared on the fly.
#ifndef ZEN_TESTS_SECRET_MEMORY_SCAN_H_
#define ZEN_TESTS_SECRET_MEMORY_SCAN_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace zen::secret_hygiene {

class InvertedKey {
 public:
  // Copies `key` inverted; the plain bytes are never stored.
  explicit InvertedKey(absl::Span<const uint8_t> key);

  // Whether `haystack` holds the key as raw bytes, or as lower- or
  // upper-case hex, or as base64 (the forms a log line would carry).
  bool FoundIn(absl::string_view haystack) const;

  // Whether `haystack` holds the raw key bytes only (for memory: the other
  // forms are 2x larger and would need a key copy in the text to match).
  bool RawIn(absl::string_view haystack) const;

 private:
  std::vector<uint8_t> inverted_;
};

// Where the raw key occurs in the readable memory of process `pid` (0: this
// process), as "address mapping-name" lines. Mappings that contain any of
// `skip` addresses (the secret pages themselves) and mappings larger than
// `max_mapping` are not read.
absl::StatusOr<std::vector<std::string>> FindKeyInMemory(
    pid_t pid, const InvertedKey& key, std::vector<const void*> skip,
    size_t max_mapping = size_t{256} << 20);

// The bytes of /proc/<pid>/<file> (for environ and cmdline).
std::string ReadProcFile(pid_t pid, const char* file);

}  // namespace zen::secret_hygiene

#endif  // ZEN_TESTS_SECRET_MEMORY_SCAN_H_
