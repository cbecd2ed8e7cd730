#include "codegen_runtime/protobuf_state.h"

#include <vector>

#include "absl/container/flat_hash_set.h"
#include "base/fork_guard.h"
#include "base/mutex.h"
#include "google/protobuf/message.h"

namespace zen::codegen_runtime {
namespace {

namespace pb = ::google::protobuf;

Mutex& StateMutex() {
  static Mutex* const mu = [] {
    auto* m = new Mutex;  // Never destroyed: used until process exit.
    RegisterForkGuardedMutex(m);
    return m;
  }();
  return *mu;
}

// Created while the library loads, when no other thread can be inside it:
// a fork() can then never land in StateMutex()'s own first construction.
const bool kStateMutexCreated = (StateMutex(), true);

// This thread's nesting of ProtobufStateLock.
thread_local int lock_depth = 0;

}  // namespace

// Unchecked by -Wthread-safety: whether the mutex is taken depends on the
// thread's nesting, known only at run time.
ProtobufStateLock::ProtobufStateLock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  (void)kStateMutexCreated;
  if (lock_depth++ == 0) StateMutex().Lock();
}

ProtobufStateLock::~ProtobufStateLock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (--lock_depth == 0) StateMutex().Unlock();
}

void FinishLazyDescriptors(const pb::Descriptor* root) {
  pb::MessageFactory* const factory = pb::MessageFactory::generated_factory();
  absl::flat_hash_set<const pb::Descriptor*> seen = {root};
  std::vector<const pb::Descriptor*> pending = {root};
  while (!pending.empty()) {
    const pb::Descriptor* type = pending.back();
    pending.pop_back();
    // Builds the file's descriptors and reflection; null for a type of
    // another pool, whose messages (dynamic ones) hold no such state.
    const pb::Message* prototype = factory->GetPrototype(type);
    const pb::Reflection* reflection =
        prototype != nullptr ? prototype->GetReflection() : nullptr;
    for (int i = 0; i < type->field_count(); ++i) {
      const pb::FieldDescriptor* field = type->field(i);
      (void)field->type();  // Resolves a lazily linked message or enum type.
      if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM) {
        (void)field->default_value_enum();
      }
      if (field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) continue;
      const pb::Descriptor* sub = field->message_type();
      if (seen.insert(sub).second) pending.push_back(sub);
      // Reflection caches a singular field's default instance on first read.
      if (reflection != nullptr && !field->is_repeated()) {
        (void)reflection->GetMessage(*prototype, field);
      }
    }
  }
}

}  // namespace zen::codegen_runtime
