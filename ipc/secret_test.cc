#include "ipc/secret.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/log.h"
#include "gtest/gtest.h"
#include "testing/forked_child.h"
#include "testing/sanitizers.h"

namespace zen::ipc {
namespace {

bool IsMapped(const void* p) {
  void* page =
      reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(p) &
                              ~(uintptr_t(::sysconf(_SC_PAGESIZE)) - 1));
  return ::msync(page, 1, MS_ASYNC) == 0 || errno != ENOMEM;
}

// The line of /proc/self/smaps that starts with `key` in the mapping that
// holds `p`, or "".
std::string SmapsLineOf(const void* p, const std::string& key) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  const uintptr_t addr = reinterpret_cast<uintptr_t>(p);
  while (std::getline(smaps, line)) {
    unsigned long lo, hi;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 &&
        line.find(':') > line.find(' ')) {
      inside = addr >= lo && addr < hi;
      continue;
    }
    if (inside && line.rfind(key, 0) == 0) return line;
  }
  return "";
}

// The VmFlags line of the mapping that holds `p`.
std::string VmFlagsOf(const void* p) { return SmapsLineOf(p, "VmFlags:"); }

TEST(SecretTest, KeyPageIsExcludedFromCoreDumps) {
  auto s = Secret::Generate();
  ASSERT_TRUE(s.ok());
  const std::string flags = VmFlagsOf(s->key().data());
  ASSERT_FALSE(flags.empty());
  EXPECT_NE(flags.find(" dd"), std::string::npos) << flags;
}

TEST(SecretTest, MovedFromSecretHoldsNoKey) {
  auto s = Secret::Generate();
  ASSERT_TRUE(s.ok());
  const std::string original(s->key().begin(), s->key().end());
  Secret moved = std::move(*s);
  EXPECT_TRUE(s->empty());
  EXPECT_TRUE(s->key().empty());
  EXPECT_EQ(std::string(moved.key().begin(), moved.key().end()), original);
}

TEST(SecretTest, DestroyedSecretLeavesNoKeyBytesMapped) {
  const uint8_t* where;
  {
    auto s = Secret::Generate();
    ASSERT_TRUE(s.ok());
    where = s->key().data();
    ASSERT_TRUE(IsMapped(where));
  }
  // Wiped with OPENSSL_cleanse and unmapped: nothing of it is readable.
  EXPECT_FALSE(IsMapped(where));
}

TEST(SecretTest, CloneIsIndependentCopy) {
  auto s = Secret::Generate();
  ASSERT_TRUE(s.ok());
  auto c = s->Clone();
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->key().data(), s->key().data());
  EXPECT_TRUE(std::equal(c->key().begin(), c->key().end(), s->key().begin()));
}

// The "Locked:" size in kB of the mapping that holds `p`, or -1.
long LockedKbOf(const void* p) {
  long kb;
  const std::string line = SmapsLineOf(p, "Locked:");
  return std::sscanf(line.c_str(), "Locked: %ld kB", &kb) == 1 ? kb : -1;
}

bool HasCapability(int cap) {
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

// Takes `cap` out of this process's effective and permitted sets (for a
// forked child: the parent keeps its own).
bool DropCapability(int cap) {
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  data[cap / 32].effective &= ~(1u << (cap % 32));
  data[cap / 32].permitted &= ~(1u << (cap % 32));
  return ::syscall(SYS_capset, &header, data) == 0;
}

// The sanitizer runtimes intercept mlock and make it a no-op that succeeds
// ("mlock is not supported"), so locking is only observable on the plain
// build.
constexpr char kMlockSkipReason[] =
    "sanitizer runtimes make mlock a successful no-op";

TEST(SecretTest, KeyPageIsLockedInMemoryWhenTheLimitAllows) {
  if (testing::UnderSanitizer()) GTEST_SKIP() << kMlockSkipReason;
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_MEMLOCK, &limit), 0);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (limit.rlim_cur < static_cast<rlim_t>(4 * page) &&
      !HasCapability(CAP_IPC_LOCK)) {
    GTEST_SKIP() << "RLIMIT_MEMLOCK allows no page here";
  }
  auto generated = Secret::Generate();
  ASSERT_TRUE(generated.ok());
  auto copied = Secret::FromBytes(generated->key());
  ASSERT_TRUE(copied.ok());
  for (const Secret* s : {&*generated, &*copied}) {
    const std::string flags = VmFlagsOf(s->key().data());
    EXPECT_NE(flags.find(" lo"), std::string::npos) << flags;
    EXPECT_GE(LockedKbOf(s->key().data()), page / 1024);
  }
}

// Where nothing may be locked the secret still works (it is only kept out
// of swap on a best-effort basis), and the process says so once.
TEST(SecretTest, WithoutMemlockAllowanceItWorksAndWarnsOnce) {
  if (testing::UnderSanitizer()) GTEST_SKIP() << kMlockSkipReason;
  testing::ChildOutcome outcome = testing::RunInChild([]() -> absl::Status {
    if (HasCapability(CAP_IPC_LOCK) && !DropCapability(CAP_IPC_LOCK)) {
      return absl::InternalError("cannot drop CAP_IPC_LOCK");
    }
    const rlimit none{0, 0};
    if (::setrlimit(RLIMIT_MEMLOCK, &none) != 0) {
      return absl::InternalError("setrlimit(RLIMIT_MEMLOCK) failed");
    }
    std::vector<std::string> lines;
    SetLogSink([&lines](LogLevel, absl::string_view line) {
      lines.emplace_back(line);
    });
    auto a = Secret::Generate();
    auto b = Secret::Generate();
    SetLogSink(nullptr);
    if (!a.ok() || !b.ok()) return absl::InternalError("Generate failed");
    if (VmFlagsOf(a->key().data()).find(" lo") != std::string::npos) {
      return absl::InternalError("page locked although nothing may be");
    }
    if (lines.size() != 1 || lines[0].find("mlock") == std::string::npos) {
      return absl::InternalError(
          absl::StrCat("want one mlock warning, got ", lines.size(),
                       " lines: ", absl::StrJoin(lines, " | ")));
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(outcome.ok()) << outcome.ToString();
}

TEST(SecretTest, FromBytesRejectsWrongLength) {
  uint8_t short_key[16] = {};
  EXPECT_EQ(Secret::FromBytes(short_key).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace zen::ipc
