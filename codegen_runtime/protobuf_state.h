// Fork-safe use of protobuf's process-wide state.
//
// protobuf completes its descriptors lazily, under process-wide locks: the
// generated pool's mutex (a file's descriptors are built on first use, a
// field's message or enum type is looked up on first use), a std::call_once
// per file and per field, the generated factory's mutex; its JSON utilities
// take the pool's mutex on every call. It has no fork handlers. A child
// forked while another thread of the parent held one of those locks
// inherits it held by a thread the child does not have, and hangs on its
// first use of protobuf: in a pre-forking server, a new worker's first call.
//
// So every use of that state by the library holds ProtobufStateLock, whose
// mutex is fork-guarded (base/fork_guard.h): fork() waits until no such use
// is under way. The first use of a message type (a codec's construction)
// completes, under the lock, all of protobuf's lazy work for every type it
// reaches (FinishLazyDescriptors), so the codecs' fast paths, which do not
// take the lock, find nothing left that would.
#ifndef ZEN_CODEGEN_RUNTIME_PROTOBUF_STATE_H_
#define ZEN_CODEGEN_RUNTIME_PROTOBUF_STATE_H_

#include <atomic>

#include "google/protobuf/descriptor.h"

namespace zen::codegen_runtime {

// Holds the library's protobuf lock for its scope. Reentrant on one thread
// (a codec builds its message codecs under the lock its builder holds).
// Hold it only around protobuf's own work: never across a blocking call,
// which would hold up every fork() of the process.
class ProtobufStateLock {
 public:
  ProtobufStateLock();
  ~ProtobufStateLock();
  ProtobufStateLock(const ProtobufStateLock&) = delete;
  ProtobufStateLock& operator=(const ProtobufStateLock&) = delete;
};

// Completes protobuf's lazy state for `root` and every message type its
// fields reach: each file's descriptors and reflection, each field's type,
// each singular message field's default instance. Call with a
// ProtobufStateLock held, before the type's first use without it.
void FinishLazyDescriptors(const google::protobuf::Descriptor* root);

// A value built on first use, under ProtobufStateLock, and never destroyed:
// what a function-local static of a codec would be, without the static's
// guard variable, which a fork() landing during the construction would
// leave taken in the child forever. Constant-initialised, so declare it
// `static` at namespace or function scope:
//
//   const MethodCodec& FooCodec() {
//     static ForkSafeLazy<MethodCodec> codec;
//     return codec.Get([] { return new MethodCodec(spec); });
//   }
//
// `make` returns a new T (owned from then on) and may use protobuf freely.
// Thread-safe.
template <typename T>
class ForkSafeLazy {
 public:
  constexpr ForkSafeLazy() = default;
  ForkSafeLazy(const ForkSafeLazy&) = delete;
  ForkSafeLazy& operator=(const ForkSafeLazy&) = delete;

  template <typename Make>
  const T& Get(Make make) {
    const T* value = value_.load(std::memory_order_acquire);
    if (value != nullptr) return *value;
    ProtobufStateLock lock;
    value = value_.load(std::memory_order_relaxed);
    if (value == nullptr) {
      value = make();
      value_.store(value, std::memory_order_release);
    }
    return *value;
  }

 private:
  std::atomic<const T*> value_{nullptr};
};

}  // namespace zen::codegen_runtime

#endif  // ZEN_CODEGEN_RUNTIME_PROTOBUF_STATE_H_
