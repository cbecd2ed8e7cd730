#include "tools/rpc_cli/target.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace zen::rpc_cli {

absl::Status ParseTarget(absl::string_view arg,
                         ipc::ConnectorOptions* options) {
  constexpr absl::string_view kUnix = "unix:";
  if (absl::StartsWith(arg, kUnix)) {
    if (arg.size() == kUnix.size()) {
      return absl::InvalidArgumentError("empty unix socket path");
    }
    options->transport = ipc::Transport::kUnix;
    options->unix_path = std::string(arg.substr(kUnix.size()));
    return absl::OkStatus();
  }
  uint32_t port = 0;
  if (!absl::SimpleAtoi(arg, &port) || port == 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad port '", arg, "' (want 1..65535 or unix:PATH)"));
  }
  options->transport = ipc::Transport::kTcp;
  options->port = static_cast<uint16_t>(port);
  return absl::OkStatus();
}

std::string AddressLine(ipc::Transport transport, uint16_t port,
                        absl::string_view unix_path) {
  return transport == ipc::Transport::kUnix ? absl::StrCat("UNIX ", unix_path)
                                            : absl::StrCat("PORT ", port);
}

}  // namespace zen::rpc_cli
