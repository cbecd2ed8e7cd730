#include "base/scratch_string.h"

#include <utility>

namespace zen {
namespace {

// A fixed array, not a vector: the pool itself never allocates.
struct Pool {
  std::string strings[kScratchPoolSize];
  size_t size = 0;
};

Pool& ThreadPool() {
  thread_local Pool pool;
  return pool;
}

}  // namespace

ScratchString::ScratchString() {
  Pool& pool = ThreadPool();
  if (pool.size > 0) text_ = std::move(pool.strings[--pool.size]);
}

ScratchString::~ScratchString() {
  if (text_.capacity() > kScratchKeepBytes) return;
  Pool& pool = ThreadPool();
  if (pool.size == kScratchPoolSize) return;
  text_.clear();
  pool.strings[pool.size++] = std::move(text_);
}

}  // namespace zen
