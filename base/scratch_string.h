// ScratchString: a std::string borrowed from a per-thread pool, so that code
// run on every call can build text without allocating once warm.
#ifndef ZEN_BASE_SCRATCH_STRING_H_
#define ZEN_BASE_SCRATCH_STRING_H_

#include <cstddef>
#include <string>

namespace zen {

// An empty std::string for the lifetime of this object, taken from this
// thread's pool of released ones (their capacity kept) or made new. On
// destruction it goes back to the pool, emptied; one that grew past
// kScratchKeepBytes is freed instead, so one large message does not pin its
// memory per thread. Nested scratch strings on one thread are distinct.
//
// Not thread-safe (one thread uses it); it may be moved to another thread's
// pool only by being destroyed there, which is allowed. Forked children
// inherit only the forking thread's pool, as with any thread_local.
class ScratchString {
 public:
  ScratchString();
  ~ScratchString();
  ScratchString(const ScratchString&) = delete;
  ScratchString& operator=(const ScratchString&) = delete;

  std::string* get() { return &text_; }
  std::string& operator*() { return text_; }
  std::string* operator->() { return &text_; }
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

// A released string with more capacity than this is freed, not pooled.
inline constexpr size_t kScratchKeepBytes = 64 * 1024;
// Released strings a thread keeps at most (nesting deeper than this on one
// thread allocates, as without the pool).
inline constexpr size_t kScratchPoolSize = 8;

}  // namespace zen

#endif  // ZEN_BASE_SCRATCH_STRING_H_
