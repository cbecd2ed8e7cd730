#include "ipc/secret.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace zen::ipc {
namespace {

bool IsMapped(const void* p) {
  void* page =
      reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(p) &
                              ~(uintptr_t(::sysconf(_SC_PAGESIZE)) - 1));
  return ::msync(page, 1, MS_ASYNC) == 0 || errno != ENOMEM;
}

// The VmFlags line of the mapping that holds `p`, from /proc/self/smaps.
std::string VmFlagsOf(const void* p) {
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
    if (inside && line.rfind("VmFlags:", 0) == 0) return line;
  }
  return "";
}

TEST(SecretTest, GeneratesDistinctRandomKeys) {
  auto a = Secret::Generate();
  auto b = Secret::Generate();
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->key().size(), Secret::kSize);
  EXPECT_NE(std::string(a->key().begin(), a->key().end()),
            std::string(b->key().begin(), b->key().end()));
}

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

TEST(SecretTest, FromBytesRejectsWrongLength) {
  uint8_t short_key[16] = {};
  EXPECT_EQ(Secret::FromBytes(short_key).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace zen::ipc
