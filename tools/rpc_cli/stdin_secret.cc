#include "tools/rpc_cli/stdin_secret.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>

#include "absl/status/status.h"

namespace zen::rpc_cli {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<ipc::Secret> ReadSecretFromStdin() {
  std::string line;
  char c;
  while (line.size() <= 130 && ::read(STDIN_FILENO, &c, 1) == 1 && c != '\n') {
    line.push_back(c);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.size() != 64) {
    std::fill(line.begin(), line.end(), '\0');
    return absl::InvalidArgumentError(
        "the first line of stdin must be exactly 64 hex characters");
  }
  uint8_t key[32];
  for (size_t i = 0; i < 32; ++i) {
    const int hi = HexValue(line[2 * i]);
    const int lo = HexValue(line[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      std::fill(std::begin(key), std::end(key), 0);
      std::fill(line.begin(), line.end(), '\0');
      return absl::InvalidArgumentError("the secret is not hexadecimal");
    }
    key[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  auto secret = ipc::Secret::FromBytes(key);
  std::fill(std::begin(key), std::end(key), 0);
  std::fill(line.begin(), line.end(), '\0');
  return secret;
}

}  // namespace zen::rpc_cli
