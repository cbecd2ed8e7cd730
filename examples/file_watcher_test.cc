#include "examples/file_watcher.h"

#include <stdio.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace zen::examples {
namespace {

std::string TempPath(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name, ".",
                      ::getpid());
}

void WriteFile(const std::string& path, absl::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

TEST(FileWatcherTest, FirstCallReadsTheFile) {
  const std::string path = TempPath("first");
  WriteFile(path, "{\"a\":1}");
  FileWatcher watcher(path);
  auto read = watcher.ReadIfChanged();
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(**read, "{\"a\":1}");
}

TEST(FileWatcherTest, UnchangedFileGivesNothing) {
  const std::string path = TempPath("unchanged");
  WriteFile(path, "x");
  FileWatcher watcher(path);
  ASSERT_TRUE(watcher.ReadIfChanged().ok());
  auto again = watcher.ReadIfChanged();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

TEST(FileWatcherTest, NoticesAnInPlaceWrite) {
  const std::string path = TempPath("in_place");
  WriteFile(path, "one");
  FileWatcher watcher(path);
  ASSERT_TRUE(watcher.ReadIfChanged().ok());
  WriteFile(path, "three");
  auto read = watcher.ReadIfChanged();
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(**read, "three");
}

TEST(FileWatcherTest, NoticesRenameIntoPlace) {
  const std::string path = TempPath("renamed");
  const std::string fresh = path + ".new";
  WriteFile(path, "abc");
  FileWatcher watcher(path);
  ASSERT_TRUE(watcher.ReadIfChanged().ok());
  WriteFile(fresh, "xyz");  // Same size: only the inode tells.
  ASSERT_EQ(::rename(fresh.c_str(), path.c_str()), 0);
  auto read = watcher.ReadIfChanged();
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(**read, "xyz");
}

TEST(FileWatcherTest, MissingFileIsNotFoundAndRecovers) {
  const std::string path = TempPath("missing");
  ::unlink(path.c_str());
  FileWatcher watcher(path);
  auto read = watcher.ReadIfChanged();
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(read.status().message().find(path), absl::string_view::npos);
  WriteFile(path, "late");
  read = watcher.ReadIfChanged();
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(**read, "late");
}

TEST(FileWatcherTest, ReadsLargeFilesWhole) {
  const std::string path = TempPath("large");
  const std::string text(100000, 'z');
  WriteFile(path, text);
  FileWatcher watcher(path);
  auto read = watcher.ReadIfChanged();
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(**read, text);
}

}  // namespace
}  // namespace zen::examples
