#include "examples/scan_probe.h"

#include "gtest/gtest.h"

namespace zen::examples {
namespace {

TEST(ScanProbeTest, FlagsProbesForHiddenFilesBackupsAndAdminTools) {
  EXPECT_TRUE(IsScanProbe("GET", "/.env"));
  EXPECT_TRUE(IsScanProbe("GET", "/app/.git/config"));
  EXPECT_TRUE(IsScanProbe("GET", "/db/dump.SQL"));
  EXPECT_TRUE(IsScanProbe("POST", "/WP-Admin/setup.php"));
  EXPECT_TRUE(IsScanProbe("BADMETHOD", "/"));
}

TEST(ScanProbeTest, LeavesOrdinaryRequestsAlone) {
  EXPECT_FALSE(IsScanProbe("GET", "/"));
  EXPECT_FALSE(IsScanProbe("get", "/api/hello"));
  EXPECT_FALSE(IsScanProbe("POST", "/users/42/avatar.png"));
  EXPECT_FALSE(IsScanProbe("GET", "/.well-known/security.txt"));
  EXPECT_FALSE(IsScanProbe("PATCH", "/api/limited"));
}

}  // namespace
}  // namespace zen::examples
