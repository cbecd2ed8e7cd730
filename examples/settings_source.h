// Where the parent's settings documents come from: the example's stand-in
// for the product's API client.
#ifndef ZEN_EXAMPLES_SETTINGS_SOURCE_H_
#define ZEN_EXAMPLES_SETTINGS_SOURCE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "agent/agent_server.h"
#include "examples/file_watcher.h"

namespace zen::examples {

// Gives the agent server the runtime config and the firewall lists: each
// either from a file, re-read whenever it changes, or the embedded default
// (default_settings.h). The text goes to the server exactly as read; the
// server keeps those bytes and hands them to the workers. Not thread-safe.
class SettingsSource {
 public:
  // An empty path means the embedded default for that document.
  SettingsSource(std::string config_path, std::string firewall_lists_path);

  // Pushes each document that is new or changed since the last call to
  // `server` (UpdateConfig / UpdateFirewallLists). Returns the first error:
  // a file that cannot be read, or a document the server rejected (it then
  // keeps the previous one; the file is tried again once it changes). The
  // other document is pushed regardless.
  absl::Status PushChanges(AgentServer* server);

 private:
  std::optional<FileWatcher> config_file_;
  std::optional<FileWatcher> firewall_lists_file_;
  bool defaults_pushed_ = false;
};

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_SETTINGS_SOURCE_H_
