#include "examples/file_watcher.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ipc/unique_fd.h"

namespace zen::examples {
namespace {

absl::Status ErrnoStatus(int error, absl::string_view what,
                         absl::string_view path) {
  const std::string message =
      absl::StrCat(what, " ", path, ": ", std::strerror(error));
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace

FileWatcher::FileWatcher(std::string path) : path_(std::move(path)) {}

absl::StatusOr<std::optional<std::string>> FileWatcher::ReadIfChanged() {
  ipc::UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "cannot open", path_);
  auto version_of = [&]() -> absl::StatusOr<Version> {
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) {
      return ErrnoStatus(errno, "cannot stat", path_);
    }
    return Version{
        st.st_dev, st.st_ino, st.st_size,
        int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
  };
  absl::StatusOr<Version> before = version_of();
  if (!before.ok()) return before.status();
  if (last_read_.has_value() && *last_read_ == *before) return std::nullopt;

  std::string contents;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot read", path_);
    }
    contents.append(buffer, static_cast<size_t>(n));
  }
  absl::StatusOr<Version> after = version_of();
  if (!after.ok()) return after.status();
  // Written to while we read: what we have may be half old, half new.
  if (!(*after == *before)) return std::nullopt;
  last_read_ = *before;
  return contents;
}

}  // namespace zen::examples
