// ReusedMessage: a protobuf message per thread, per type and role, that the
// generated server code decodes requests into and builds responses in, so
// that a warm server does not allocate a message's strings on every call.
#ifndef ZEN_CODEGEN_RUNTIME_REUSED_MESSAGE_H_
#define ZEN_CODEGEN_RUNTIME_REUSED_MESSAGE_H_

#include <cstddef>
#include <memory>

namespace zen::codegen_runtime {

// Roles, so that a method whose request and response share a type gets two
// messages.
enum class MessageRole { kRequest, kResponse };

// A message grown past this (ByteSizeLong) is freed after the call rather
// than kept for the next: one large request does not pin memory per thread.
inline constexpr size_t kReusedMessageKeepBytes = 64 * 1024;

// An empty `Message` for the lifetime of this object: this thread's cached
// one, or, if that is in use (a handler that, on its own thread, ends up
// handling another call of the same type), a fresh one. The cached message
// is cleared on release; Clear keeps the strings' buffers, so decoding the
// next request of the same shape allocates nothing.
template <typename Message, MessageRole kRole>
class ReusedMessage {
 public:
  ReusedMessage() {
    Slot& slot = ThreadSlot();
    if (slot.in_use) {
      own_ = std::make_unique<Message>();
      message_ = own_.get();
    } else {
      slot.in_use = true;
      message_ = &slot.message;
    }
  }
  ~ReusedMessage() {
    if (own_ != nullptr) return;
    Slot& slot = ThreadSlot();
    if (message_->ByteSizeLong() > kReusedMessageKeepBytes) {
      slot.message = Message();  // Frees what the large one held.
    } else {
      message_->Clear();
    }
    slot.in_use = false;
  }
  ReusedMessage(const ReusedMessage&) = delete;
  ReusedMessage& operator=(const ReusedMessage&) = delete;

  Message* get() { return message_; }
  Message& operator*() { return *message_; }
  Message* operator->() { return message_; }

 private:
  struct Slot {
    Message message;
    bool in_use = false;
  };
  // Hidden and local-dynamic: a shared library that links this in
  // (libzen_agent.so) keeps its slots to itself, and an optimized build
  // then lists them nowhere in its dynamic symbol table (their guard
  // variables still appear there, as local symbols nothing can bind to).
  __attribute__((visibility("hidden"))) static Slot& ThreadSlot() {
    thread_local Slot slot __attribute__((tls_model("local-dynamic")));
    return slot;
  }

  Message* message_;
  std::unique_ptr<Message> own_;  // Only when the thread's slot was taken.
};

}  // namespace zen::codegen_runtime

#endif  // ZEN_CODEGEN_RUNTIME_REUSED_MESSAGE_H_
