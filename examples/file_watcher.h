// Notices when a file changes and reads it: the example's stand-in for
// polling the product's remote API for new settings.
#ifndef ZEN_EXAMPLES_FILE_WATCHER_H_
#define ZEN_EXAMPLES_FILE_WATCHER_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace zen::examples {

// Polls one file by stat(2); no inotify, so it works on every file system
// and needs no thread of its own. Not thread-safe.
class FileWatcher {
 public:
  explicit FileWatcher(std::string path);

  // The file's whole contents if it changed since the last successful read
  // (the first call always reads), nullopt if it did not. "Changed" means a
  // different device, inode, size or modification time, so both in-place
  // writes and rename-into-place are noticed. A read that sees the file
  // change while it reads returns nullopt and leaves the change for the next
  // call. Writers should still replace the file atomically (write a new file,
  // then rename it over the old one): modification times are only as fine as
  // the kernel's clock tick, so two quick in-place writes of the same size
  // could look like one.
  //
  // Errors: kNotFound when the file does not exist, kPermissionDenied,
  // kInternal for other failures of open/read/stat, each naming the path.
  // An error changes nothing: the next call tries again.
  absl::StatusOr<std::optional<std::string>> ReadIfChanged();

  const std::string& path() const { return path_; }

 private:
  struct Version {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = -1;
    int64_t mtime_ns = -1;
    bool operator==(const Version& other) const {
      return device == other.device && inode == other.inode &&
             size == other.size && mtime_ns == other.mtime_ns;
    }
  };

  const std::string path_;
  std::optional<Version> last_read_;
};

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_FILE_WATCHER_H_
