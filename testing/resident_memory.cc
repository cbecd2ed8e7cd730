#include "testing/resident_memory.h"

#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace zen::testing {

absl::StatusOr<int64_t> ResidentKiB() {
  std::ifstream status("/proc/self/status");
  if (!status) return absl::UnavailableError("cannot read /proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest(line);
    if (!absl::ConsumePrefix(&rest, "VmRSS:")) continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, "kB");
    int64_t kib = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &kib)) {
      return absl::DataLossError(absl::StrCat("unreadable line: ", line));
    }
    return kib;
  }
  return absl::DataLossError("no VmRSS line in /proc/self/status");
}

}  // namespace zen::testing
